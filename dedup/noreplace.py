"""Renaming a file to a name that must be free, without a gap between the check and the rename.

``os.rename`` replaces whatever is at the target, so a check with ``lexists`` before it leaves
a moment in which a file another program writes there is replaced and lost. Linux's
``renameat2(RENAME_NOREPLACE)`` makes the check and the rename one step; where it is missing
(another kernel or C library, a file system that refuses the flag) a hard link to the new name
and then unlinking the old one does the same (``link`` fails on a taken name); only where hard
links are refused too (FAT, some network shares) is it the check and then the rename.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Callable

__all__ = ["link_then_unlink", "rename_noreplace", "renameat2"]

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
# renameat2 answers these when the kernel, the C library or the file system lacks the flag.
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


def _load_renameat2() -> Callable[[str, str], None] | None:
    """libc's renameat2 with RENAME_NOREPLACE, raising OSError as ``os`` does; None where it
    is missing (not Linux, or a C library before glibc 2.28)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def renameat2(src: str, dst: str) -> None:
        if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), src, None, dst)

    return renameat2


#: ``renameat2(src, dst)`` that never replaces, or None where the system has none (tests set
#: it to simulate a rename that fails: another file system, a read-only one).
renameat2 = _load_renameat2()


def rename_noreplace(src: str, dst: str) -> None:
    """Rename ``src`` to ``dst``, failing if anything is at ``dst`` (even a file that comes there
    while this runs).

    Raises:
        FileExistsError: something is at ``dst``; ``src`` is where it was.
        OSError: the rename failed (EXDEV: another file system); ``src`` is where it was.
    """
    if renameat2 is not None:
        try:
            renameat2(src, dst)
            return
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
    link_then_unlink(src, dst)


def link_then_unlink(src: str, dst: str) -> None:
    """The fallback: a hard link at ``dst`` (which fails on a taken name), then ``src`` unlinked.

    Raises:
        FileExistsError: something is at ``dst``.
        OSError: as for a rename.
    """
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # No hard links here: the check and the rename, the one gap left.
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst) from exc
        os.rename(src, dst)
        return
    try:
        os.unlink(src)
    except OSError:
        os.unlink(dst)  # the original stays where it was; the second name goes
        raise
