"""Files only their owner reads: the SQLite database with its WAL and shared-memory
files, and the evidence files of cases (ID cards, letters).

Why here and not left to the umask: the usual umask (022) makes new files readable
by every account on the machine, and a credit store holds personal data in its pages
and its WAL. So the store creates its files 0600 and its folders 0700 whatever the
umask, and takes group and other permissions away from such files it finds wider
(from before this rule, or copied in): it never widens a mode, and it leaves alone
a file another account owns (a deployment that arranged that knows why).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def restrict(path: Path) -> None:
    """Take group and other permissions away from `path` if this account owns it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner enters: created 0700 (its missing parents
    too), or narrowed to that if it exists."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made by another process in the meantime
            pass
    restrict(path)
    return path


def create_private(path: Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True when created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def copy_private(src: Path, dst: Path) -> None:
    """Copy `src` to a new file `dst` created 0600 (it must not exist)."""
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
        shutil.copyfileobj(inp, out, 1 << 20)
