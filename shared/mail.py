"""Sending mail, and the local SMTP sink with its mailbox page for the embedded mode."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from shared.web import SHARED, CurrentAdmin, render, templates

INDEX_FILE = "organisations.jsonl"


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    organisation_id: uuid.UUID  # for the local mailbox only; never written into the mail


@dataclass(frozen=True)
class Outcome:
    """What became of one mail: ``sent``; ``refused`` for good (5xx); ``deferred`` (4xx, try
    again later); ``unavailable`` (the server could not be reached: not the mail's fault)."""

    state: str
    reason: str = ""


def _refusal(code: int, text: bytes | str) -> Outcome:
    reason = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    state = "deferred" if 400 <= code < 500 else "refused"
    return Outcome(state, f"{code} {reason}"[:500])


class MailIndex:
    """Which organisation sent which message, kept beside the local mail sink.

    The mailbox page shows an admin only their organisation's mail. The mail itself must not
    say which organisation (a header would reach every respondent's mail server), so the
    embedded mode's mailer notes it here, by Message-ID, before sending.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / INDEX_FILE

    def record(self, message_id: str, organisation_id: uuid.UUID) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"message_id": message_id, "organisation_id": str(organisation_id)})
        with self.path.open("a", encoding="utf-8") as index:
            index.write(line + "\n")

    def organisations(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        entries = (json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line)
        return {e["message_id"]: e["organisation_id"] for e in entries}


class Mailer:
    def __init__(self, *, host: str, port: int, sender: str, index: MailIndex | None = None
                 ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.index = index
        self.domain = sender.rpartition("@")[2].strip(" >") or "iso20400.invalid"

    def _message(self, mail: OutgoingMail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain=self.domain)
        msg.set_content(mail.text)
        return msg

    def _send_all(self, mails: list[OutgoingMail]) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            for mail in mails:
                msg = self._message(mail)
                if self.index is not None:
                    self.index.record(msg["Message-ID"], mail.organisation_id)
                smtp.send_message(msg)

    def _send_each(self, mails: list[OutgoingMail]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        try:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                for mail in mails:
                    outcomes.append(self._one(smtp, mail))
        except (OSError, smtplib.SMTPException) as exc:
            # The server is down or went away: what was not answered yet is not the mails'
            # fault, so none of them spends an attempt.
            reason = f"{type(exc).__name__}: {exc}"[:500]
            outcomes += [Outcome("unavailable", reason)] * (len(mails) - len(outcomes))
        return outcomes

    def _one(self, smtp: smtplib.SMTP, mail: OutgoingMail) -> Outcome:
        msg = self._message(mail)
        if self.index is not None:
            self.index.record(msg["Message-ID"], mail.organisation_id)
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _refusal(code, text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return _refusal(exc.smtp_code, exc.smtp_error)
        return Outcome("sent")

    async def send_each(self, mails: list[OutgoingMail]) -> list[Outcome]:
        """Send over one connection; one outcome per mail, in order. Never raises for a
        refusal or an unreachable server: the caller records each mail's fate."""
        if not mails:
            return []
        return await asyncio.to_thread(self._send_each, mails)

    async def send(self, mails: list[OutgoingMail]) -> None:
        if mails:
            await asyncio.to_thread(self._send_all, mails)


class MailSink:
    """A local SMTP server that keeps every message as a file, for the mailbox page."""

    def __init__(self, folder: Path, *, port: int) -> None:
        self.folder = folder
        self.port = port
        self._controller = None
        # For tests: an address -> (code, text) rule; a code refuses that recipient.
        self.refuse: Callable[[str], tuple[int, str] | None] = lambda address: None

    def start(self) -> "MailSink":
        from aiosmtpd.controller import Controller

        self.folder.mkdir(parents=True, exist_ok=True)
        folder = self.folder
        sink = self

        class Keep:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN202, N802
                refused = sink.refuse(address)
                if refused is not None:
                    return f"{refused[0]} {refused[1]}"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802
                name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
                (folder / name).write_bytes(envelope.original_content or envelope.content)
                return "250 Message accepted for delivery"

        self._controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self, organisation_id: uuid.UUID | None = None) -> list[dict]:
        """Newest first; only the organisation's own when one is given."""
        sent_by = MailIndex(self.folder).organisations() if organisation_id else {}
        found = []
        for path in sorted(self.folder.glob("*.eml"), reverse=True):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if organisation_id and sent_by.get(msg.get("Message-ID", "")) != str(organisation_id):
                continue
            body = msg.get_body(preferencelist=("plain",))
            found.append({"id": path.stem, "to": msg["To"], "subject": msg["Subject"],
                          "date": path.stat().st_mtime,
                          "text": body.get_content() if body else ""})
        return found


def mailbox_router(sink: MailSink) -> APIRouter:
    """The admin reads the mail their organisation's respondents were sent (embedded mode)."""
    router = APIRouter(tags=["mailbox"])
    env = templates(SHARED)

    @router.get("/mailbox", name="mailbox")
    async def mailbox(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        return render(env, request, "mailbox.html", messages=sink.messages(admin.organisation_id))

    @router.get("/mailbox/api/messages")
    async def mailbox_json(admin: CurrentAdmin) -> JSONResponse:
        return JSONResponse(sink.messages(admin.organisation_id))

    @router.get("/mailbox/{message_id}")
    async def one(message_id: str, request: Request, admin: CurrentAdmin):  # noqa: ANN202
        for msg in sink.messages(admin.organisation_id):
            if msg["id"] == message_id:
                return render(env, request, "mailbox.html", messages=[msg], single=True)
        raise HTTPException(404)

    return router
