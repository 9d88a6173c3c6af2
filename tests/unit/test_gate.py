"""Which errors mean "the database is not there" (wait, spend no attempt) and which are the
event's or the code's (count as a failure)."""

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors

from shared.gate import is_unavailable


def wrapped(orig: Exception) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)


@pytest.mark.parametrize("error", [
    psycopg.OperationalError("connection failed: Connection refused"),
    errors.AdminShutdown("terminating connection due to administrator command"),
    errors.CannotConnectNow("the database system is starting up"),
    errors.TooManyConnections("sorry, too many clients already"),
    psycopg.InterfaceError("the connection is closed"),
    sa.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
])
def test_connection_errors_mean_the_database_is_unavailable(error):
    assert is_unavailable(error)
    if isinstance(error, psycopg.Error):
        assert is_unavailable(wrapped(error))


@pytest.mark.parametrize("error", [
    errors.DeadlockDetected("deadlock detected"),
    errors.UniqueViolation("duplicate key value"),
    errors.UndefinedTable("relation does not exist"),
    RuntimeError("a bug"),
    ConnectionRefusedError("the mail server, not the database"),
])
def test_other_errors_are_failures_of_the_handler(error):
    assert not is_unavailable(error)
    if isinstance(error, psycopg.Error):
        assert not is_unavailable(wrapped(error))
