"""Admin sessions, kept on the bus so that every service checks the same ones.

Invitations writes a session into a JetStream KeyValue bucket at login and removes it at logout;
documents and scoring read the same bucket, so a logout or a revoked session stops working in
every service at the next request. The cookie holds only a random id (signed, so garbage never
reaches the bus); the bucket key holds its hash, so a copy of the bucket yields no cookies.

Bucket keys:

- ``a.<admin id>``: the admin exists and belongs to ``organisation_id``; written at each login,
  removed when the admin is removed, which ends all their sessions at once;
- ``s.<admin id>.<sha256 of the session id>``: one session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from faststream.nats import NatsBroker
from itsdangerous import BadSignature, TimestampSigner
from nats.js.errors import KeyNotFoundError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException
from starlette.responses import Response

from shared.kv import Bucket, bus_errors

SESSION_COOKIE = "iso20400_session"
SESSION_MAX_AGE = 8 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
_SESSION_KEY = re.compile(r"^[0-9a-f]{64}$")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class AdminSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    admin_id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    csrf: str
    key: str  # the hash of the session id: names this session on the sessions page
    created_at: datetime
    expires_at: datetime


class LoginRequired(Exception):
    """Raised by ``CurrentAdmin`` when the caller has no valid admin session."""


def tokens_match(sent: str, expected: str) -> bool:
    """Constant-time comparison that accepts any text a client can send."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """Issued by invitations at login, checked by every service on every admin request."""

    def __init__(self, secret_key: str, *, secure: bool, broker: NatsBroker, namespace: str,
                 replicas: int = 1) -> None:
        self._signer = TimestampSigner(secret_key, salt="iso20400-admin-session")
        self.secure = secure
        self.bucket = Bucket(broker, namespace=namespace, purpose="sessions",
                             ttl=SESSION_MAX_AGE, replicas=replicas,
                             description="Admin sessions; removing one logs it out everywhere")

    async def issue(self, response: Response, *, admin_id: uuid.UUID,
                    organisation_id: uuid.UUID, name: str, now: datetime) -> AdminSession:
        session_id = secrets.token_urlsafe(32)
        session = AdminSession(
            admin_id=admin_id, organisation_id=organisation_id, name=name,
            csrf=secrets.token_urlsafe(24), key=_hash(session_id), created_at=now,
            expires_at=now + timedelta(seconds=SESSION_MAX_AGE))
        kv = await self.bucket.kv()
        with bus_errors():
            await kv.put(f"a.{admin_id}", json.dumps({"organisation_id": str(organisation_id)})
                         .encode())
            await kv.put(f"s.{admin_id}.{session.key}", session.model_dump_json().encode())
        cookie = self._signer.sign(f"{admin_id}.{session_id}").decode()
        response.set_cookie(SESSION_COOKIE, cookie, max_age=SESSION_MAX_AGE, httponly=True,
                            samesite="lax", secure=self.secure)
        return session

    async def read(self, request: Request, *, now: datetime | None = None) -> AdminSession | None:
        """The caller's session, or None; raises ``BusUnavailable`` when it cannot be checked."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            admin_part, _, session_id = self._signer.unsign(raw, max_age=SESSION_MAX_AGE) \
                .decode().partition(".")
            admin_id = uuid.UUID(admin_part)
        except (BadSignature, ValueError, UnicodeError):
            return None
        kv = await self.bucket.kv()
        with bus_errors():
            try:
                marker, entry = await asyncio.gather(
                    kv.get(f"a.{admin_id}"), kv.get(f"s.{admin_id}.{_hash(session_id)}"))
            except KeyNotFoundError:
                return None
        session = AdminSession.model_validate_json(entry.value)
        owner = json.loads(marker.value)["organisation_id"]
        if owner != str(session.organisation_id):
            return None  # the admin moved to another organisation: old sessions are void
        if session.expires_at <= (now or datetime.now(UTC)):
            return None
        return session

    async def of_admin(self, admin_id: uuid.UUID) -> list[AdminSession]:
        """The admin's live sessions, oldest first."""
        kv = await self.bucket.kv()
        found = []
        with bus_errors():
            watcher = await kv.watch(f"s.{admin_id}.*", ignore_deletes=True)
            try:
                while (entry := await watcher.updates(timeout=5.0)) is not None:
                    found.append(AdminSession.model_validate_json(entry.value))
            finally:
                await watcher.stop()
        now = datetime.now(UTC)
        return sorted((s for s in found if s.expires_at > now), key=lambda s: s.created_at)

    async def end(self, admin_id: uuid.UUID, key: str) -> None:
        """End one of the admin's sessions; an unknown key is ignored."""
        if not _SESSION_KEY.match(key):
            return
        kv = await self.bucket.kv()
        with bus_errors():
            await kv.purge(f"s.{admin_id}.{key}")

    async def end_others(self, session: AdminSession) -> int:
        others = [s for s in await self.of_admin(session.admin_id) if s.key != session.key]
        for other in others:
            await self.end(session.admin_id, other.key)
        return len(others)

    async def forget_admin(self, admin_id: uuid.UUID) -> None:
        """The admin was removed: every session of theirs stops working at once."""
        kv = await self.bucket.kv()
        with bus_errors():
            await kv.purge(f"a.{admin_id}")
        for session in await self.of_admin(admin_id):
            await self.end(admin_id, session.key)

    def forget_cookie(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=self.secure)


async def _current_admin(request: Request) -> AdminSession:
    admin = await request.app.state.sessions.read(request)
    if admin is None:
        raise LoginRequired()
    request.state.admin = admin
    return admin


CurrentAdmin = Annotated[AdminSession, Depends(_current_admin)]


async def _checked_csrf(request: Request, admin: CurrentAdmin) -> AdminSession:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not tokens_match(sent, admin.csrf):
        raise HTTPException(403, "msg.csrf_failed")
    return admin


# Use on every state-changing admin route: the session plus its token, sent as the form field
# ``csrf`` or the header ``X-CSRF-Token`` (JSON clients read it from GET /admin/api/session).
CheckedAdmin = Annotated[AdminSession, Depends(_checked_csrf)]

