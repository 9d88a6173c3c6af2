import pytest

from shared.csrf import same_origin
from shared.sessions import tokens_match


@pytest.mark.parametrize(("origin", "host"), [
    ("http://testserver", "testserver"),
    ("https://scan.example.org", "scan.example.org"),  # TLS ends at the ingress
    ("http://127.0.0.1:8020", "127.0.0.1:8020"),
    ("https://Scan.Example.org:443", "scan.example.org"),
])
def test_the_sites_own_origin_passes(origin, host):
    assert same_origin(origin, host)


@pytest.mark.parametrize(("origin", "host"), [
    ("https://evil.example", "scan.example.org"),
    ("https://scan.example.org.evil.example", "scan.example.org"),
    ("http://127.0.0.1:8021", "127.0.0.1:8020"),
    ("null", "scan.example.org"),
    ("file://", "scan.example.org"),
    ("http://[::1", "scan.example.org"),
    ("", "scan.example.org"),
    ("https://scan.example.org", None),
])
def test_any_other_origin_is_another_site(origin, host):
    assert not same_origin(origin, host)


@pytest.mark.parametrize("sent", ["", "tökén", "\udcff", "\x00", "a" * 10_000, "abc "])
def test_tokens_compare_safely_whatever_is_sent(sent):
    assert tokens_match(sent, "abc") is False
    assert tokens_match("abc", "abc") is True
