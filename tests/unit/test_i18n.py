"""Every text a user reads exists in Dutch and in English."""

import re
from pathlib import Path

from shared.web import catalogue

ROOT = Path(__file__).resolve().parents[2]
KEY_IN_TEMPLATE = re.compile(r"t\('([a-z_.0-9]+)'\s*[,)]")
DYNAMIC_KEY = re.compile(r"t(?:\.labels)?\('([a-z_.]+\.)'\s*[~,]")  # t('a.' ~ x), t.labels('a.', xs)
KEY_IN_CODE = re.compile(r'"((?:msg|form|respond|error|notice)\.[a-z_.]+)"')


def used_keys() -> tuple[set[str], set[str]]:
    fixed, prefixes = set(), set()
    for path in [*ROOT.glob("services/*/templates/*.html"), *ROOT.glob("shared/templates/*.html")]:
        text = path.read_text()
        fixed |= set(KEY_IN_TEMPLATE.findall(text))
        prefixes |= set(DYNAMIC_KEY.findall(text))
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/*.py")]:
        fixed |= {k for k in KEY_IN_CODE.findall(path.read_text()) if not k.endswith(".html")}
    return fixed, prefixes


def test_dutch_and_english_have_the_same_keys_and_no_empty_text():
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en)
    assert all(v.strip() for v in [*nl.values(), *en.values()])


def test_every_key_the_pages_and_code_use_is_translated():
    fixed, prefixes = used_keys()
    missing = sorted(k for k in fixed if k not in catalogue("nl"))
    assert missing == []
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in catalogue("nl")), prefix


def test_placeholders_match_between_languages():
    nl, en = catalogue("nl"), catalogue("en")
    for key in nl:
        assert set(re.findall(r"{(\w+)}", nl[key])) == set(re.findall(r"{(\w+)}", en[key])), key
