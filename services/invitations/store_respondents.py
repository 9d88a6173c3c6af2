"""Queries on the organisation's list of respondents. Each takes the admin's organisation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invitations.domain_respondents import Person
from services.invitations.store import admins, respondents

_COLUMNS = (respondents.c.id, respondents.c.name, respondents.c.email, respondents.c.language,
            respondents.c.tags, respondents.c.admin_id)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def listed(conn: AsyncConnection, organisation_id: uuid.UUID, *, query: str = "",
                 tag: str = ""):  # noqa: ANN201
    """The people on the list (not removed), by name; ``query`` matches name, address or tag."""
    stmt = (sa.select(*_COLUMNS)
            .where(respondents.c.organisation_id == organisation_id,
                   respondents.c.removed_at.is_(None))
            .order_by(sa.func.lower(respondents.c.name), respondents.c.email))
    if query := query.strip():
        pattern = f"%{_escaped(query)}%"
        tags = sa.func.unnest(respondents.c.tags).table_valued("tag").render_derived()
        stmt = stmt.where(sa.or_(
            respondents.c.name.ilike(pattern, escape="\\"),
            respondents.c.email.ilike(pattern, escape="\\"),
            sa.exists(sa.select(1).select_from(tags)
                      .where(tags.c.tag.ilike(pattern, escape="\\"))),
        ))
    if tag := tag.strip():
        stmt = stmt.where(respondents.c.tags.contains([tag]))
    return (await conn.execute(stmt)).all()


async def all_tags(conn: AsyncConnection, organisation_id: uuid.UUID) -> list[str]:
    tag = sa.func.unnest(respondents.c.tags).label("tag")
    rows = await conn.execute(
        sa.select(tag).where(respondents.c.organisation_id == organisation_id,
                             respondents.c.removed_at.is_(None)).distinct().order_by(tag))
    return [r.tag for r in rows]


async def one(conn: AsyncConnection, organisation_id: uuid.UUID, respondent_id: uuid.UUID,
              *, for_update: bool = False):  # noqa: ANN201
    """A person on the list, or None (also when removed, or of another organisation)."""
    stmt = sa.select(*_COLUMNS).where(respondents.c.id == respondent_id,
                                      respondents.c.organisation_id == organisation_id,
                                      respondents.c.removed_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


async def by_email(conn: AsyncConnection, organisation_id: uuid.UUID, email: str):  # noqa: ANN201
    return (await conn.execute(
        sa.select(*_COLUMNS, respondents.c.removed_at)
        .where(respondents.c.organisation_id == organisation_id, respondents.c.email == email)
    )).first()


async def listed_emails(conn: AsyncConnection, organisation_id: uuid.UUID,
                        emails: Iterable[str]) -> set[str]:
    """Which of ``emails`` are on the list now (a removed one may come back)."""
    rows = await conn.execute(sa.select(respondents.c.email).where(
        respondents.c.organisation_id == organisation_id, respondents.c.removed_at.is_(None),
        respondents.c.email.in_(list(emails))))
    return {r.email for r in rows}


async def put(conn: AsyncConnection, organisation_id: uuid.UUID, people: list[Person],
              *, now: datetime) -> list[uuid.UUID]:
    """Add people to the list; one removed earlier comes back, with what was given now.

    One statement for the whole list, so an import is taken whole or not at all.
    """
    if not people:
        return []
    stmt = pg.insert(respondents).values([
        {"id": uuid.uuid4(), "organisation_id": organisation_id, "name": p.name,
         "email": p.email, "language": p.language, "tags": list(p.tags), "created_at": now}
        for p in people])
    stmt = stmt.on_conflict_do_update(
        index_elements=["organisation_id", "email"],
        set_={"name": stmt.excluded.name, "language": stmt.excluded.language,
              "tags": stmt.excluded.tags, "removed_at": None},
    ).returning(respondents.c.id)
    return list((await conn.execute(stmt)).scalars())


async def change(conn: AsyncConnection, organisation_id: uuid.UUID, respondent_id: uuid.UUID,
                 person: Person) -> None:
    await conn.execute(respondents.update().where(
        respondents.c.id == respondent_id, respondents.c.organisation_id == organisation_id,
    ).values(name=person.name, email=person.email, language=person.language,
             tags=list(person.tags)))


async def remove(conn: AsyncConnection, organisation_id: uuid.UUID, respondent_id: uuid.UUID,
                 *, now: datetime) -> None:
    await conn.execute(respondents.update().where(
        respondents.c.id == respondent_id, respondents.c.organisation_id == organisation_id,
    ).values(removed_at=now))


async def ensure_admin_listed(conn: AsyncConnection, admin_id: uuid.UUID, *,
                              now: datetime) -> None:
    """The admin's own row on the list, made once: linked to the row with their address if
    there is one. A row the admin removed stays removed."""
    if await conn.scalar(sa.select(respondents.c.id).where(respondents.c.admin_id == admin_id)):
        return
    admin = (await conn.execute(sa.select(admins).where(admins.c.id == admin_id))).first()
    if admin is None:
        return
    stmt = pg.insert(respondents).values(
        id=uuid.uuid4(), organisation_id=admin.organisation_id, name=admin.name,
        email=admin.email.lower(), created_at=now, admin_id=admin.id)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["organisation_id", "email"], set_={"admin_id": admin.id},
        where=respondents.c.admin_id.is_(None)))
