"""The mail worker: sends the queued invitations and reminders, outside any request or
transaction, and records what became of each mail.

Every invitations process runs one. Workers claim due mails with ``FOR UPDATE SKIP LOCKED``
and a lease, so several replicas share the queue and a crashed worker's mails are sent by
another once the lease ends. A request that queues mail wakes its own process's worker; a slow
poll is the safety net, and also runs the sweep that queues the automatic reminders.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from services.invitations import domain_mail, store_mail
from services.invitations.store import invitations, mails
from shared.db import Messaging
from shared.events import InvitationSent, ReminderSent
from shared.gate import gate_for, is_unavailable
from shared.mail import Mailer, Outcome, OutgoingMail
from shared.tokens import hash_token, new_token
from shared.web import last_day, translator

log = logging.getLogger("iso20400.mail")

SAMPLE_LINK = "/r/VOORBEELD-persoonlijke-link"


def default_text(kind: str, language: str) -> domain_mail.MailText:
    texts = translator(language).texts
    return domain_mail.MailText(subject=texts[f"mail.default.{kind}.subject"],
                                body=texts[f"mail.default.{kind}.body"])


def text_for(texts: dict, questionnaire_id: uuid.UUID, kind: str,
             language: str) -> domain_mail.MailText:
    own = texts.get((questionnaire_id, kind, language))
    return domain_mail.MailText(*own) if own else default_text(kind, language)


def compose(row, texts: dict, link: str) -> domain_mail.MailText:  # noqa: ANN001 - a claimed row
    """The mail as ``row``'s respondent receives it, in their language."""
    language = domain_mail.mail_language(row.language, row.mail_language)
    return domain_mail.fill(text_for(texts, row.questionnaire_id, row.kind, language), {
        "name": row.name, "organisation": row.organisation_name, "title": row.title,
        "deadline": last_day(row.deadline), "link": link, "admin": row.admin_name or "",
    })


class MailWorker:
    def __init__(self, *, engine: AsyncEngine, messaging: Messaging, mailer: Mailer,
                 base_url: str, clock: Callable[[], datetime], batch: int = 50,
                 lease: timedelta = timedelta(minutes=2), poll: float = 5.0,
                 unavailable_delay: timedelta = timedelta(seconds=2),
                 retry_scale: float = 1.0) -> None:
        self.engine, self.messaging, self.mailer = engine, messaging, mailer
        self.base_url, self.clock = base_url, clock
        self.batch, self.lease, self.poll = batch, lease, poll
        self.unavailable_delay, self.retry_scale = unavailable_delay, retry_scale
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        self._wake.set()

    async def sweep(self) -> int:
        """Queue the automatic reminders that are due; safe with several workers at once."""
        async with self.engine.begin() as conn:
            return await store_mail.queue_automatic_reminders(conn, now=self.clock())

    async def send_due(self) -> int:
        """Send one batch of due mails; returns how many were claimed."""
        started = time.monotonic()
        async with self.engine.begin() as conn:
            rows = await store_mail.claim(conn, now=self.clock(), lease=self.lease,
                                          batch=self.batch)
            texts = await store_mail.texts_of(conn, {r.questionnaire_id for r in rows})
        if not rows:
            return 0
        live = [r for r in rows if r.revoked_at is None]
        tokens = {r.id: new_token() for r in live}
        outgoing = []
        for r in live:
            text = compose(r, texts, f"{self.base_url}/r/{tokens[r.id]}")
            outgoing.append(OutgoingMail(to=r.email, subject=text.subject, text=text.body,
                                         organisation_id=r.organisation_id))
        outcomes = await self.mailer.send_each(outgoing)
        results = dict(zip((r.id for r in live), outcomes, strict=True))
        totals: dict[uuid.UUID, int] = {}  # the same for every mail of a scan in this batch
        async with self.engine.begin() as conn:
            for r in rows:
                await self._record(conn, r, results.get(r.id), tokens.get(r.id), totals)
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
        log.info("mail worker: %d mails in %.2f s: %s", len(rows), time.monotonic() - started,
                 ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "revoked")
        return len(rows)

    async def _record(self, conn, row, outcome: Outcome | None, token: str | None,  # noqa: ANN001
                      totals: dict[uuid.UUID, int]) -> None:
        now = self.clock()
        mail = mails.update().where(mails.c.id == row.id)
        invitation = invitations.update().where(invitations.c.id == row.invitation_id)
        if outcome is None:  # the respondent was taken off the scan meanwhile
            await conn.execute(mail.values(state="failed", last_error="revoked"))
            return
        if outcome.state == "sent":
            assert token is not None
            await self._sent(conn, row, token_hash=hash_token(token), now=now, totals=totals)
            return
        if outcome.state == "unavailable":
            await conn.execute(mail.values(state="queued", last_error=outcome.reason,
                                           next_attempt_at=now + self.unavailable_delay))
            return
        attempts = row.attempts + 1
        again = (domain_mail.retry_at(attempts, now, scale=self.retry_scale)
                 if outcome.state == "deferred" else None)
        if again is not None:
            await conn.execute(mail.values(state="queued", attempts=attempts,
                                           last_error=outcome.reason, next_attempt_at=again))
            return
        await conn.execute(mail.values(state="failed", attempts=attempts,
                                       last_error=outcome.reason))
        await conn.execute(invitation.values(mail_state="failed", mail_error=outcome.reason))

    async def _sent(self, conn, row, *, token_hash: str, now: datetime,  # noqa: ANN001
                    totals: dict[uuid.UUID, int]) -> None:
        await conn.execute(mails.update().where(mails.c.id == row.id).values(
            state="sent", sent_at=now, attempts=row.attempts + 1, last_error=None))
        values = {"token_hash": token_hash, "mail_state": "sent", "mail_error": None}
        if row.kind == "invitation":
            values["sent_at"] = now
        await conn.execute(invitations.update().where(invitations.c.id == row.invitation_id)
                           .values(**values))
        if row.kind == "invitation":
            if row.questionnaire_id not in totals:
                totals[row.questionnaire_id] = await store_mail.invitations_total(
                    conn, row.questionnaire_id)
            event = InvitationSent(
                organisation_id=row.organisation_id, questionnaire_id=row.questionnaire_id,
                invitation_id=row.invitation_id, respondent_id=row.respondent_id,
                respondent_name=row.name, token_hash=token_hash, sent_at=now,
                invitations_total=max(1, totals[row.questionnaire_id]))
        else:
            event = ReminderSent(
                organisation_id=row.organisation_id, questionnaire_id=row.questionnaire_id,
                invitation_id=row.invitation_id, token_hash=token_hash, sent_at=now,
                kind=row.kind.removeprefix("reminder_"), reminders=max(1, row.reminders))
        await self.messaging.emit(conn, event, now=now)

    async def run(self) -> None:
        last_sweep = 0.0
        while True:
            try:
                self._wake.clear()
                if time.monotonic() - last_sweep >= self.poll:
                    last_sweep = time.monotonic()
                    if swept := await self.sweep():
                        log.info("mail worker: %d automatic reminders queued", swept)
                if await self.send_due() == self.batch:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the queue keeps its mails; try again
                if is_unavailable(exc):
                    await gate_for(self.engine).wait_until_up(exc)
                    continue
                log.exception("mail worker failed; trying again shortly")
                await asyncio.sleep(1.0)
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll)
            except TimeoutError:
                pass

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="mail-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
