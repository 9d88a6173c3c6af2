"""The JSON log format and the folder-traversal rule for the embedded PostgreSQL user."""

from __future__ import annotations

import json
import logging
import stat
import sys
from pathlib import Path

from shared.logs import JsonFormatter
from shared.pgaccess import first_blocked

PG_UID, PG_GID, ROOT = 999, 999, 0


def test_a_json_log_line_has_time_level_logger_message_and_exception():
    try:
        raise ValueError("kapot")
    except ValueError:
        record = logging.LogRecord("iso20400.bus", logging.ERROR, __file__, 1,
                                   "scoring failed on %s", ("évènement",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one object per line, even with a traceback
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "iso20400.bus"
    assert entry["message"] == "scoring failed on évènement"
    assert entry["time"].endswith("+00:00")
    assert "ValueError: kapot" in entry["exception"]


def folder(path: str, mode: int, uid: int = ROOT, gid: int = ROOT) -> tuple:
    return Path(path), stat.S_IFDIR | mode, uid, gid


def test_a_private_parent_blocks_the_postgres_user():
    chain = [folder("/", 0o755), folder("/root", 0o700), folder("/root/clone", 0o755)]
    assert first_blocked(chain, uid=PG_UID, gids={PG_GID}) == Path("/root")


def test_traversable_parents_do_not_block():
    chain = [folder("/", 0o755), folder("/tmp", 0o1777), folder("/tmp/x", 0o711)]
    assert first_blocked(chain, uid=PG_UID, gids={PG_GID}) is None


def test_owner_and_group_bits_count_for_their_owner_and_group_only():
    mine = [folder("/", 0o755), folder("/srv/pg", 0o700, uid=PG_UID)]
    assert first_blocked(mine, uid=PG_UID, gids={PG_GID}) is None
    group = [folder("/", 0o755), folder("/srv/shared", 0o750, gid=PG_GID)]
    assert first_blocked(group, uid=PG_UID, gids={PG_GID}) is None
    assert first_blocked(group, uid=1234, gids={1234}) == Path("/srv/shared")
    # Owner bits apply to the owner even when "other" would allow more.
    owner_locked_out = [folder("/srv/odd", 0o605, uid=PG_UID)]
    assert first_blocked(owner_locked_out, uid=PG_UID, gids={PG_GID}) == Path("/srv/odd")
