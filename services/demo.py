"""``iso20400 demo``: one whole scan over HTTP, exactly as an admin and respondents would do it.

It talks only HTTP: log in, create a questionnaire, send the invitations, read the links from
the mailbox, answer as every respondent through the respondent pages, wait for the scan to
complete and download the reports.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

LINK = re.compile(r"https?://\S+?(/r/[A-Za-z0-9_-]{20,100})")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
STATEMENT_FIELD = re.compile(r'name="answer-([A-Z][0-9]-[2-5]-[0-9]{2})"')
NAMES = ("Anna de Vries", "Bram Jansen", "Chantal Bakker", "Daan Visser", "Esra Yilmaz",
         "Femke Smit", "Gijs Mulder", "Hanna de Boer", "Ivo Meijer", "Joyce Bos")
PATTERNS = ("volledig", "deels", "volledig", "niet", "deels", "weet_niet", "volledig")


class DemoFailed(RuntimeError):
    pass


def run_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    stack = None
    try:
        url, email, password, stack = _find_or_start_stack(args)
        print(f"demo against {url}", flush=True)
        paths = drive_scan(url, email=email, password=password, out=args.out,
                           respondents=args.respondents)
    except DemoFailed as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if stack is not None:
            stack.send_signal(signal.SIGTERM)
            stack.wait(60)
    if stack is not None:  # a fresh stack that did its job; a failed one stays for its log
        shutil.rmtree(stack.args[stack.args.index("--data") + 1], ignore_errors=True)
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s; documents:")
    for path in paths:
        print(f"  {path.resolve()}")
    return 0


def _find_or_start_stack(args: argparse.Namespace):  # noqa: ANN202
    data = args.data
    if args.url:
        creds = _credentials(data) if args.password is None else {"password": args.password}
        return args.url.rstrip("/"), args.email, creds["password"], None
    stack_file = data / "stack.json"
    if stack_file.exists():
        # A stack was started here: use it, or say what is wrong with it. Starting another one
        # beside it would hide the problem and run the demo against other data.
        stack = json.loads(stack_file.read_text())
        _wait_until_healthy(stack, stack_file, data=data)
        return stack["url"], args.email, args.password or _credentials(data)["password"], None
    return _start_fresh_stack(args)


def _start_fresh_stack(args: argparse.Namespace):  # noqa: ANN202
    from shared.embedded import die_with_parent, free_port

    fresh = Path(tempfile.mkdtemp(prefix="iso20400-demo-"))
    # Ours, made just now: passable, so that as root PostgreSQL's user keeps its data here
    # rather than in /var/lib/iso20400 (the secrets inside are 600 anyway).
    fresh.chmod(0o755)
    log = fresh / "iso20400.log"
    port = free_port()
    print(f"no running stack found; starting a fresh one in {fresh} (log: {log})", flush=True)
    with open(log, "ab") as out:
        # Stopped by us when the demo ends, and by the kernel if the demo is killed.
        proc = subprocess.Popen([sys.executable, "-m", "services.cli", "up", "--data", str(fresh),
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while _unhealthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(10)
            raise DemoFailed(f"the embedded stack did not start; its log, {log}, ends with:\n"
                             + _tail(log))
        time.sleep(0.3)
    return url, args.email, _credentials(fresh)["password"], proc


def _wait_until_healthy(stack: dict, stack_file: Path, *, data: Path,
                        timeout: float = 20) -> None:
    where = (f"its log is {stack['log']}" if stack.get("log")
             else f"its log is in the terminal where `iso20400 up` runs (pid {stack.get('pid')})")
    servers = [str(p) for p in (data / "nats/nats-server.log", data / "postgres/postgres.log")
               if p.exists()]
    if servers:
        where += f"; the servers' logs: {', '.join(servers)}"
    deadline = time.monotonic() + timeout
    while problems := _unhealthy(stack["url"]):
        if not _alive(stack.get("pid")):
            raise DemoFailed(f"the stack recorded in {stack_file} (pid {stack.get('pid')}) is not "
                             "running; start it again (./dev run) or remove that file")
        if time.monotonic() > deadline:
            raise DemoFailed(f"the stack recorded in {stack_file} at {stack['url']} is not "
                             f"healthy: {'; '.join(problems)}; {where}")
        time.sleep(0.5)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def _credentials(data: Path) -> dict:
    path = data / "demo-admin.json"
    if not path.exists():
        raise DemoFailed(f"no demo admin credentials in {path}; pass --password")
    return json.loads(path.read_text())


def _unhealthy(url: str) -> list[str]:
    """What is wrong, per service ("scoring: database down"); empty when all four are healthy."""
    problems = []
    for name in ("invitations", "responses", "scoring", "documents"):
        try:
            answer = httpx.get(f"{url}/{name}/health", timeout=2)
        except httpx.HTTPError as exc:
            problems.append(f"{name} does not answer ({type(exc).__name__})")
            continue
        if answer.status_code != 200:
            try:
                checks = answer.json()
                down = [k for k in ("database", "nats") if checks.get(k) is False]
            except ValueError:
                down = []
            problems.append(f"{name} is not healthy ({', '.join(f'{d} down' for d in down)})"
                            if down else f"{name} answers {answer.status_code}")
    return problems


def _wait(what: str, check, timeout: float = 120.0, interval: float = 0.3):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(interval)
    raise DemoFailed(f"timed out waiting for {what}")


def drive_scan(url: str, *, email: str, password: str, out: Path, respondents: int) -> list[Path]:
    admin = httpx.Client(base_url=url, timeout=30)
    _log_in(admin, email=email, password=password)
    people = [f"{name} <{name.split()[0].lower()}.{i}@voorbeeldstad.example>"
              for i, name in enumerate(NAMES[:respondents], start=1)]
    title = f"MVI-scan demo {time.strftime('%Y-%m-%d %H:%M:%S')}"
    created = admin.post("/admin/api/questionnaires", json={
        "title": title, "deadline": (date.today() + timedelta(days=14)).isoformat(),
        "respondents": people})
    if created.status_code != 201:
        raise DemoFailed(f"creating the questionnaire failed: {created.text}")
    qid = created.json()["id"]
    print(f"created questionnaire {qid} with {len(people)} respondents", flush=True)
    sent = admin.post(f"/admin/api/questionnaires/{qid}/send")
    if sent.status_code != 200:
        raise DemoFailed(f"sending failed: {sent.text}")
    links = _wait("the invitation mails", lambda: _links(admin, title, len(people)))
    print(f"{len(links)} invitation mails arrived in the mailbox", flush=True)

    respondent = httpx.Client(base_url=url, timeout=30)
    for number, link in enumerate(links):
        page = _wait("the respondent page", lambda link=link: _page(respondent, link))
        ids = STATEMENT_FIELD.findall(page)
        if not ids:
            raise DemoFailed("the respondent page shows no statements")
        form = {f"answer-{sid}": PATTERNS[(number + i) % len(PATTERNS)]
                for i, sid in enumerate(dict.fromkeys(ids))}
        form[f"comment-{ids[0]}"] = f"Toelichting van respondent {number + 1}."
        saved = respondent.post(link, data={**form, "action": "save"})
        submitted = respondent.post(link, data={**form, "action": "submit"})
        if saved.status_code != 200 or submitted.status_code != 200:
            raise DemoFailed(f"answering failed ({saved.status_code}, {submitted.status_code})")
    print("every respondent answered and submitted", flush=True)

    status = _wait("the scan to complete and its reports", lambda: _reports(admin, qid),
                   timeout=180)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for language, report_url in sorted(status["reports"].items()):
        pdf = admin.get(report_url)
        if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF"):
            raise DemoFailed(f"downloading {report_url} failed ({pdf.status_code})")
        path = out / f"results-report-{qid[:8]}-{language}.pdf"
        path.write_bytes(pdf.content)
        paths.append(path)
    print(f"scan completed: {status['overall_percent']}% overall, level {status['overall_level']}")
    return paths


def _log_in(admin: httpx.Client, *, email: str, password: str) -> None:
    """Log in as a browser does, then send the session's token with every later request."""
    form = CSRF_FIELD.search(admin.get("/login").text)
    login = admin.post("/login", data={"email": email, "password": password, "next": "/admin",
                                       "csrf": form.group(1) if form else ""})
    if login.status_code != 303:
        raise DemoFailed(f"login failed ({login.status_code})")
    admin.headers["X-CSRF-Token"] = admin.get("/admin/api/session").json()["csrf"]


def _links(admin: httpx.Client, title: str, expected: int) -> list[str] | None:
    messages = admin.get("/mailbox/api/messages").json()
    links = [m.group(1) for msg in messages if title in msg["subject"]
             for m in [LINK.search(msg["text"])] if m]
    return links if len(links) >= expected else None


def _page(client: httpx.Client, link: str) -> str | None:
    page = client.get(link)
    return page.text if page.status_code == 200 else None


def _reports(admin: httpx.Client, qid: str) -> dict | None:
    status = admin.get(f"/admin/api/questionnaires/{qid}").json()
    return status if status["status"] == "completed" and len(status["reports"]) == 2 else None
