"""Importing respondents from a CSV file or a pasted address list. Pure, no I/O.

Every row ends up taken or refused with a reason the admin can read; a file that is not a
list of people at all (too big, binary, not UTF-8, spreadsheet formulas) is refused whole.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from services.invitations.domain_respondents import (
    MAX_ENTRY,
    Person,
    email_problem,
    name_problem,
    parse_person,
)

MAX_UPLOAD = 1024 * 1024  # a list of thousands of people is far smaller
MAX_ROWS = 2000
# What a spreadsheet runs as a formula when the file is opened again (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")
_ENTRY = re.compile(r'\s*(?:"?(?P<name>[^<>"]*?)"?\s*)?<(?P<email>[^<>]*)>\s*')
_HEADERS = {
    "name": "name", "naam": "name", "volledige naam": "name", "full name": "name",
    "email": "email", "e-mail": "email", "e-mailadres": "email", "email address": "email",
    "e-mail address": "email", "mail": "email", "emailadres": "email", "adres": "email",
    "language": "language", "taal": "language",
    "tags": "tags", "tag": "tags", "labels": "tags", "kenmerken": "tags",
}
_POSITIONS = ("name", "email", "language", "tags")


class ImportRefused(Exception):
    """The whole input is refused; ``key`` is a catalogue key, ``values`` fill it in."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


@dataclass(frozen=True)
class Row:
    number: int  # line of the file, or place in the pasted list, from 1
    text: str  # what the admin gave, to recognise the row in the report
    person: Person | None = None
    reason: str | None = None  # catalogue key, when refused


@dataclass
class ImportPlan:
    rows: list[Row] = field(default_factory=list)

    @property
    def taken(self) -> list[Row]:
        return [r for r in self.rows if r.person is not None]

    @property
    def refused(self) -> list[Row]:
        return [r for r in self.rows if r.person is None]


def split_pasted(text: str) -> list[str]:
    """One entry per address in a list as Outlook (``;``), Gmail (``,``) or a column copies it.

    Separators inside quotes or angle brackets are part of a name or address. A name without
    an address followed by a comma is the first half of ``Smit, Jan <jan@x.nl>`` or of the
    ``Name, address`` line this form always accepted, and joins the entry after it.
    """
    pieces: list[tuple[str, str]] = []  # (text, separator after it)
    current, quoted, bracket = [], False, False
    for char in text:
        if char == '"' and not bracket:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracket = True
        elif char == ">" and not quoted:
            bracket = False
        if char in ",;\r\n" and not quoted and not bracket:
            pieces.append(("".join(current).strip(), char))
            current = []
        else:
            current.append(char)
    pieces.append(("".join(current).strip(), "\n"))
    entries: list[str] = []
    pending = ""
    for piece, separator in pieces:
        if not piece:
            continue
        if pending:
            piece = _joined(pending, piece)
            pending = ""
        if "@" not in piece and separator == "," and len(piece) <= MAX_ENTRY:
            pending = piece
            continue
        entries.append(piece)
    if pending:
        entries.append(pending)
    return entries


def _joined(name: str, rest: str) -> str:
    if "<" in rest:
        return f"{name}, {rest.strip()}" if not rest.startswith("<") else f"{name} {rest}"
    return f"{name} <{rest}>"


def parse_entry(entry: str) -> tuple[Person | None, str | None]:
    """``Name <address>``, ``"Name" <address>`` or a bare address: a person or a reason."""
    if len(entry) > MAX_ENTRY:
        return None, "respondents.import.reason.too_long"
    match = _ENTRY.fullmatch(entry)
    if match:
        name, email = match.group("name") or "", match.group("email")
    else:  # ``Name address`` or a bare address
        name, _, email = entry.rpartition(" ")
    email = email.strip().strip('"').lower()
    if "@" not in email:
        return None, "respondents.import.reason.no_address"
    if problem := email_problem(email):
        return None, _reason(problem)
    name = name.strip().strip('"').strip()
    if problem := name_problem(name):
        return None, _reason(problem)
    person, _ = parse_person(name=name, email=email)
    return person, None


def _reason(problem: str) -> str:
    """A field error as the report words it: ``respondents.error.x`` -> ``...reason.x``."""
    return problem.replace("respondents.error.", "respondents.import.reason.")


def plan_pasted(text: str) -> ImportPlan:
    entries = split_pasted(text)
    if not entries:
        raise ImportRefused("respondents.import.error.empty")
    if len(entries) > MAX_ROWS:
        raise ImportRefused("respondents.import.error.too_many", limit=MAX_ROWS)
    plan = ImportPlan()
    for number, entry in enumerate(entries, start=1):
        person, reason = parse_entry(entry)
        plan.rows.append(Row(number=number, text=entry[:MAX_ENTRY], person=person,
                             reason=reason))
    return _without_duplicates(plan)


def plan_csv(data: bytes) -> ImportPlan:
    """Rows of an uploaded CSV: UTF-8 with or without BOM, ``,`` or ``;``, header optional."""
    if len(data) > MAX_UPLOAD:
        raise ImportRefused("respondents.import.error.too_large", limit=MAX_UPLOAD // 1024)
    if b"\x00" in data:
        raise ImportRefused("respondents.import.error.binary")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("respondents.import.error.not_utf8") from None
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise ImportRefused("respondents.import.error.binary")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise ImportRefused("respondents.import.error.not_csv") from None
    numbered = [(n, cells) for n, cells in enumerate(lines, start=1)
                if any(c.strip() for c in cells)]
    if not numbered:
        raise ImportRefused("respondents.import.error.empty")
    columns = _header(numbered[0][1])
    if columns is not None:
        numbered = numbered[1:]
    if len(numbered) > MAX_ROWS:
        raise ImportRefused("respondents.import.error.too_many", limit=MAX_ROWS)
    for number, cells in numbered:
        for cell in cells:
            if cell.strip().startswith(_FORMULA_START) and cell.strip() != "-":
                raise ImportRefused("respondents.import.error.formula", row=number)
    plan = ImportPlan()
    for number, cells in numbered:
        shown = delimiter.join(cells)[:MAX_ENTRY]
        values = _by_column(cells, columns)
        if columns is None and len(cells) == 1:
            person, reason = parse_entry(cells[0].strip())
            plan.rows.append(Row(number=number, text=shown, person=person, reason=reason))
            continue
        person, errors = parse_person(**values)
        reason = _reason(next(iter(errors.values()))) if errors else None
        plan.rows.append(Row(number=number, text=shown, person=person, reason=reason))
    return _without_duplicates(plan)


def _header(cells: list[str]) -> dict[int, str] | None:
    """Column positions by field when the first row names the email column, else None."""
    named = {i: _HEADERS.get(c.strip().lower()) for i, c in enumerate(cells)}
    columns = {i: f for i, f in named.items() if f}
    return columns if "email" in columns.values() else None


def _by_column(cells: list[str], columns: dict[int, str] | None) -> dict[str, str]:
    if columns is None:
        columns = dict(enumerate(_POSITIONS))
    values = {f: "" for f in _POSITIONS}
    for i, f in columns.items():
        if i < len(cells):
            values[f] = cells[i]
    return values


def _without_duplicates(plan: ImportPlan) -> ImportPlan:
    seen: set[str] = set()
    rows = []
    for row in plan.rows:
        if row.person is not None:
            if row.person.email in seen:
                row = Row(number=row.number, text=row.text,
                          reason="respondents.import.reason.duplicate")
            else:
                seen.add(row.person.email)
        rows.append(row)
    return ImportPlan(rows=rows)


def against_list(plan: ImportPlan, listed: set[str]) -> ImportPlan:
    """Refuse the rows whose address is already on the organisation's list (``listed``):
    an import adds people, it does not overwrite what the admin edited by hand."""
    return ImportPlan(rows=[
        Row(number=r.number, text=r.text, reason="respondents.import.reason.already_listed")
        if r.person is not None and r.person.email in listed else r
        for r in plan.rows])
