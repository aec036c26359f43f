"""Replace an output directory as a whole: `--out` holds one complete run, the old or the new.

`run` and `experiment` build their files in a temporary directory beside `--out` (same
parent, so the same filesystem) and install it only when every file is written:

1. entries of the old `--out` that the command does not own (say `experiments/` inside
   `results/`) are moved into the new directory, so they survive;
2. the new directory and the old one are exchanged in one step (Linux `renameat2` with
   RENAME_EXCHANGE); where that is unavailable the old one is renamed aside and the new
   one renamed in, two renames apart;
3. the old one, now under the temporary name, is deleted.

SIGINT and SIGTERM are held back during steps 1–2, so an interruption lands before or
after the exchange. An error or an interruption while building removes the temporary
directory and leaves `--out` untouched; a SIGKILL leaves at most a hidden
`.NAME.partial-PID-*` directory beside it, which the next run into `--out` removes once
process PID has ended.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Collection, Iterator

from proofs_check.errors import UsageError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc_renameat2():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


_renameat2 = _libc_renameat2()


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically; False where the system cannot (then nothing moved)."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def check_output_directory(out: Path, flag: str = "--out") -> None:
    """Refuse, before any work, an --out the whole-directory replacement must not touch: a
    file, the current directory or one of its parents."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{flag}: {out} exists and is not a directory")
    resolved, here = out.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise UsageError(f"{flag}: {out} is the current directory or one of its parents; the output replaces the directory as a whole, so give a subdirectory")


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (are delivered on exit) while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _temporary_prefix(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(out: Path) -> None:
    """Temporary directories beside `out` left by processes that no longer run (a SIGKILL)."""
    for kind in ("partial", "old"):
        prefix = f".{out.name}.{kind}-"
        for name in os.listdir(out.parent):
            pid = name[len(prefix):].split("-", 1)[0] if name.startswith(prefix) else ""
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(out.parent / name, ignore_errors=True)


def _mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def _install(staging: Path, out: Path, owned: Collection[str]) -> None:
    with _signals_held():
        if not out.exists():
            os.rename(staging, out)
            return
        carried = [name for name in os.listdir(out) if name not in owned and not (staging / name).exists()]
        for name in carried:
            os.rename(out / name, staging / name)
        try:
            if exchange(staging, out):
                old = staging
            else:
                old = Path(tempfile.mkdtemp(prefix=_temporary_prefix(out, "old"), dir=out.parent))
                os.rmdir(old)
                os.rename(out, old)
                os.rename(staging, out)
        except BaseException:
            for name in carried:
                if (staging / name).exists() and not (out / name).exists():
                    os.rename(staging / name, out / name)
            raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_directory(out: Path, owned: Collection[str], flag: str = "--out") -> Iterator[Path]:
    """A fresh directory beside `out` to write into; on a normal exit it replaces `out` as
    described in the module docstring (`owned`: the top-level names the command writes,
    which the new run replaces; other entries of the old `out` are kept). On an exception
    or a signal the new files are removed and `out` is untouched. OSError → UsageError."""
    out = Path(out).resolve()  # a symlinked --out: its target is replaced, the link stays
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(out)
        staging = Path(tempfile.mkdtemp(prefix=_temporary_prefix(out, "partial"), dir=out.parent))
        os.chmod(staging, _mode())
    except OSError as error:
        raise UsageError(f"{flag}: cannot write beside {out} ({error.strerror or error})") from None
    try:
        yield staging
        _install(staging, out, owned)
    except OSError as error:
        raise UsageError(f"{flag}: cannot write to {out} ({error.strerror or error})") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
