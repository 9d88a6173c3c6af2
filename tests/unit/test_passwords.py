import hashlib
import secrets

from services.invitations.passwords import hash_password, verify_password


def scrypt_hash(password: str) -> str:
    """A hash as the first release stored it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def test_passwords_are_stored_salted_as_argon2id_and_checked():
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert stored != hash_password("correct horse")
    assert verify_password("correct horse", stored) == (True, False)
    assert verify_password("wrong horse", stored) == (False, False)
    assert verify_password("correct horse", "garbage")[0] is False
    assert verify_password("correct \x00 ünïcode", hash_password("correct \x00 ünïcode"))[0]


def test_an_old_scrypt_hash_still_verifies_and_asks_to_be_replaced():
    old = scrypt_hash("correct horse")
    assert verify_password("correct horse", old) == (True, True)
    assert verify_password("wrong horse", old)[0] is False
    assert verify_password("x", "scrypt$zz$00")[0] is False
