"""``iso20400 demo``: one whole scan over HTTP, exactly as an admin and respondents would do it.

It talks only HTTP: log in, paste people onto the organisation's list, create a scan of them,
edit the invitation mail, send, read the links from the mailbox, answer as all respondents but
one, remind that one, close (round 1), reopen by moving the deadline, answer as the last one
through the reminder's link, wait for round 2 and download its reports.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from services.demo_stack import DemoFailed, find_or_start_stack

LINK = re.compile(r"https?://\S+?(/r/[A-Za-z0-9_-]{20,100})")
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
STATEMENT_FIELD = re.compile(r'name="answer-([A-Z][0-9]-[2-5]-[0-9]{2})"')
NAMES = ("Anna de Vries", "Bram Jansen", "Chantal Bakker", "Daan Visser", "Esra Yilmaz",
         "Femke Smit", "Gijs Mulder", "Hanna de Boer", "Ivo Meijer", "Joyce Bos")
PATTERNS = ("volledig", "deels", "volledig", "niet", "deels", "weet_niet", "volledig")


def run_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    stack = None
    try:
        url, email, password, stack = find_or_start_stack(args)
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


def _wait(what: str, check, timeout: float = 120.0, interval: float = 0.3):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(interval)
    raise DemoFailed(f"timed out waiting for {what}")


def drive_scan(url: str, *, email: str, password: str, out: Path, respondents: int) -> list[Path]:
    """The admin's whole scan: people onto the list, a scan of them with an edited mail, all but
    one answering, a reminder to that one, closing (round 1), reopening, the last answer
    (round 2)."""
    admin = httpx.Client(base_url=url, timeout=30)
    _log_in(admin, email=email, password=password)
    people = [(name, f"{name.split()[0].lower()}.{i}@voorbeeldstad.example")
              for i, name in enumerate(NAMES[:max(respondents, 2)], start=1)]
    ids = _onto_the_list(admin, people)
    title = f"MVI-scan demo {time.strftime('%Y-%m-%d %H:%M:%S')}"
    qid = _created_with(admin, title, ids)
    _edit_invitation_mail(admin, qid)
    _expect(admin.post(f"/admin/api/questionnaires/{qid}/send"), 200, "sending")
    links = _wait("the invitation mails", lambda: _links(admin, title, len(people)))
    if not any(m["subject"].startswith("Doe mee:")
               for m in admin.get("/mailbox/api/messages").json() if title in m["subject"]):
        raise DemoFailed("the invitation mails do not carry the edited subject")
    print(f"{len(links)} invitation mails (the edited text) arrived in the mailbox", flush=True)

    respondent = httpx.Client(base_url=url, timeout=30)
    for number, link in enumerate(links[:-1]):
        _answer(respondent, link, number)
    print(f"{len(links) - 1} respondents answered and submitted", flush=True)
    _expect(admin.post(f"/admin/questionnaires/{qid}/remind", data={"group": "not_started"}),
            303, "the reminder")
    reminder = _wait("the reminder mail",
                     lambda: _links(admin, title, len(people) + 1, reminders=True))[0]
    print("one reminder went to the respondent who had not started", flush=True)

    _expect(admin.post(f"/admin/api/questionnaires/{qid}/close"), 200, "closing")
    first = _wait("round 1 and its reports", lambda: _reports(admin, qid, round_=1), timeout=180)
    print(f"closed: round 1 {first['overall_percent']}% overall, level {first['overall_level']}")
    reopened = admin.post(f"/admin/api/questionnaires/{qid}/edit", json={
        "title": title, "deadline": (date.today() + timedelta(days=7)).isoformat()})
    _expect(reopened, 200, "reopening")
    print("reopened by moving the deadline a week ahead", flush=True)
    _answer(respondent, reminder, len(links) - 1)
    second = _wait("round 2 and its reports",
                   lambda: _reports(admin, qid, round_=2, not_=first["reports"]), timeout=180)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for language, report_url in sorted(second["reports"].items()):
        pdf = admin.get(report_url)
        if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF"):
            raise DemoFailed(f"downloading {report_url} failed ({pdf.status_code})")
        path = out / f"results-report-{qid[:8]}-{language}.pdf"
        path.write_bytes(pdf.content)
        paths.append(path)
    print(f"scan completed: round 2 {second['overall_percent']}% overall, "
          f"level {second['overall_level']}")
    return paths


def _onto_the_list(admin: httpx.Client, people: list[tuple[str, str]]) -> list[str]:
    """Paste the people as Outlook copies them; their ids on the organisation's list."""
    pasted = "; ".join(f"{name} <{address}>" for name, address in people)
    report = _expect(admin.post("/admin/api/respondents/import", json={"text": pasted}), 200,
                     "importing respondents").json()
    listed = {p["email"]: p["id"] for p in admin.get("/admin/api/respondents").json()}
    print(f"{len(report['taken'])} people added to the list from a pasted Outlook list "
          f"({len(report['refused'])} already there)", flush=True)
    return [listed[address] for _, address in people]


def _created_with(admin: httpx.Client, title: str, ids: list[str]) -> str:
    first = admin.get(f"/admin/api/respondents/{ids[0]}").json()
    created = _expect(admin.post("/admin/api/questionnaires", json={
        "title": title, "deadline": (date.today() + timedelta(days=14)).isoformat(),
        "respondents": [f"{first['name']} <{first['email']}>"]}), 201, "creating the scan")
    qid = created.json()["id"]
    _expect(admin.post(f"/admin/api/questionnaires/{qid}/participants",
                       json={"respondent_ids": ids[1:]}), 200, "adding participants")
    print(f"created questionnaire {qid} with {len(ids)} respondents from the list", flush=True)
    return qid


def _edit_invitation_mail(admin: httpx.Client, qid: str) -> None:
    _expect(admin.post(f"/admin/questionnaires/{qid}/mail/invitation/nl", data={
        "subject": "Doe mee: {titel} — {organisatie}",
        "body": "Beste {naam},\n\nWil je vóór {deadline} de MVI-scan van {organisatie} "
                "invullen? Het kost ongeveer twintig minuten.\n\n{link}\n\nGroet,\n{beheerder}",
    }), 303, "editing the invitation mail")


def _answer(respondent: httpx.Client, link: str, number: int) -> None:
    page = _wait("the respondent page", lambda: _page(respondent, link))
    ids = STATEMENT_FIELD.findall(page)
    if not ids:
        raise DemoFailed("the respondent page shows no statements")
    form = {f"answer-{sid}": PATTERNS[(number + i) % len(PATTERNS)]
            for i, sid in enumerate(dict.fromkeys(ids))}
    form[f"comment-{ids[0]}"] = f"Toelichting van respondent {number + 1}."
    # Right after a reopen, the responses service may not have heard of it yet: while it still
    # says "closed" (409, nothing saved), try again.
    _wait("the respondent's scan to be open", lambda: _saved(respondent, link, form))
    submitted = respondent.post(link, data={**form, "action": "submit"})
    if submitted.status_code != 200:
        raise DemoFailed(f"submitting failed ({submitted.status_code})")


def _saved(respondent: httpx.Client, link: str, form: dict) -> bool | None:
    saved = respondent.post(link, data={**form, "action": "save"})
    if saved.status_code not in (200, 409):
        raise DemoFailed(f"saving failed ({saved.status_code})")
    return True if saved.status_code == 200 else None


def _expect(answer: httpx.Response, status: int, what: str) -> httpx.Response:
    if answer.status_code != status:
        raise DemoFailed(f"{what} failed ({answer.status_code}): {answer.text[:500]}")
    return answer


def _log_in(admin: httpx.Client, *, email: str, password: str) -> None:
    """Log in as a browser does, then send the session's token with every later request."""
    form = CSRF_FIELD.search(admin.get("/login").text)
    login = admin.post("/login", data={"email": email, "password": password, "next": "/admin",
                                       "csrf": form.group(1) if form else ""})
    if login.status_code != 303:
        raise DemoFailed(f"login failed ({login.status_code})")
    admin.headers["X-CSRF-Token"] = admin.get("/admin/api/session").json()["csrf"]


def _links(admin: httpx.Client, title: str, expected: int, *,
           reminders: bool = False) -> list[str] | None:
    """The links in the scan's mails once ``expected`` arrived: invitations, or reminders."""
    messages = [m for m in admin.get("/mailbox/api/messages").json() if title in m["subject"]]
    if len(messages) < expected:
        return None
    chosen = [m for m in messages if m["subject"].startswith("Herinnering") == reminders]
    return [m.group(1) for msg in chosen for m in [LINK.search(msg["text"])] if m]


def _page(client: httpx.Client, link: str) -> str | None:
    page = client.get(link)
    return page.text if page.status_code == 200 else None


def _reports(admin: httpx.Client, qid: str, *, round_: int, not_: dict | None = None
             ) -> dict | None:
    """The scan once round ``round_`` completed and both its reports (not ``not_``) are ready."""
    status = admin.get(f"/admin/api/questionnaires/{qid}").json()
    ready = (status["status"] == "completed" and status["round"] == round_
             and len(status["reports"]) == 2 and status["reports"] != (not_ or {}))
    return status if ready else None
