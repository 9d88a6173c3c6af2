import pytest

from services.invitations.api_login import safe_next


@pytest.mark.parametrize("target", ["/admin", "/admin/questionnaires/1?created=1", "/mailbox"])
def test_a_fresh_login_goes_back_to_a_local_page(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example",
                                    "", "admin", "javascript:alert(1)"])
def test_a_fresh_login_never_goes_to_another_site(target):
    assert safe_next(target) == "/admin"
