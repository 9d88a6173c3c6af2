"""What the mail tests share: the database as the admin cannot see it, and the sink's count."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from shared.db import make_engine
from shared.mail import MailSink


@contextlib.asynccontextmanager
async def database(stack):  # noqa: ANN001, ANN201
    engine = make_engine(stack.settings.database_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


async def rows(stack, sql: str, **params):  # noqa: ANN001, ANN003, ANN201
    async with database(stack) as engine, engine.begin() as conn:
        result = await conn.execute(sa.text(sql), params)
        return result.all() if result.returns_rows else []


def mail_count(sink: MailSink) -> int:
    return len(list(sink.folder.glob("*.eml")))


async def add_participants(stack, questionnaire_id: str, count: int, *, start: int) -> None:  # noqa: ANN001
    """More people than the creation form takes (500), as a long respondents list gives."""
    async with database(stack) as engine, engine.begin() as conn:
        org = await conn.scalar(sa.text(
            "SELECT organisation_id FROM invitations.questionnaires WHERE id = :q"),
            {"q": questionnaire_id})
        people = [{"id": uuid.uuid4(), "org": org, "name": f"Extra {n}",
                   "email": f"extra{n}@voorbeeldstad.example", "now": datetime.now(UTC)}
                  for n in range(start, start + count)]
        await conn.execute(sa.text(
            "INSERT INTO invitations.respondents (id, organisation_id, name, email, created_at) "
            "VALUES (:id, :org, :name, :email, :now)"), people)
        await conn.execute(sa.text(
            "INSERT INTO invitations.participants (questionnaire_id, respondent_id) "
            "VALUES (:q, :id)"), [{"q": questionnaire_id, "id": p["id"]} for p in people])


def csrf_of(page: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)
