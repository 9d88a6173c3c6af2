"""Respondents ("Mijn respondenten"): the rules for one person on the list. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from shared.text import address_problem, single_line_ok

LANGUAGES = ("nl", "en")  # of the mails a respondent gets; Dutch first
MAX_NAME = 200
MAX_TAG, MAX_TAGS = 50, 10
# Anything longer cannot be a name with an address: checked before any pattern is tried.
MAX_ENTRY = MAX_NAME + 254 + 8

_ADDRESS_PROBLEMS = {"too_long": "respondents.error.email_too_long",
                     "invalid": "respondents.error.email_invalid"}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    language: str = "nl"
    tags: tuple[str, ...] = ()


def email_problem(email: str) -> str | None:
    """A catalogue key when the address cannot be mailed, else None."""
    if not email:
        return "respondents.error.email_missing"
    if not single_line_ok(email):
        return "respondents.error.email_invalid"
    problem = address_problem(email)
    return _ADDRESS_PROBLEMS[problem] if problem else None


def name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME:
        return "respondents.error.name_too_long"
    if not single_line_ok(name):
        return "respondents.error.name_characters"
    return None


def parse_tags(text: str) -> tuple[tuple[str, ...], str | None]:
    """Tags typed as a comma-separated list (role, department); duplicates dropped."""
    tags: dict[str, None] = {}
    for raw in text.split(","):
        tag = raw.strip()
        if not tag:
            continue
        if not single_line_ok(tag):
            return (), "respondents.error.tag_characters"
        if len(tag) > MAX_TAG:
            return (), "respondents.error.tag_too_long"
        tags.setdefault(tag, None)
    if len(tags) > MAX_TAGS:
        return (), "respondents.error.too_many_tags"
    return tuple(tags), None


def parse_person(*, name: str, email: str, language: str = "nl", tags: str = ""
                 ) -> tuple[Person | None, dict[str, str]]:
    """Validate one person as typed in the form; per field, the catalogue key of its error.

    An empty name becomes the address's local part, as a pasted bare address does.
    """
    errors: dict[str, str] = {}
    email = email.strip().lower()
    name = " ".join(name.split()) if single_line_ok(name) else name.strip()
    if problem := email_problem(email):
        errors["email"] = problem
    if problem := name_problem(name):
        errors["name"] = problem
    language = language.strip().lower() or "nl"
    if language not in LANGUAGES:
        errors["language"] = "respondents.error.language"
    parsed_tags, problem = parse_tags(tags)
    if problem:
        errors["tags"] = problem
    if errors:
        return None, errors
    return Person(name=name or email.split("@")[0], email=email, language=language,
                  tags=parsed_tags), {}
