"""Atomic outputs: a failure never leaves a half-written file or folder.

``atomic_dir(target)`` yields a temporary sibling folder; when the block ends without an error
the files of the previous ``target`` it did not write anew (reports, say) are copied into it,
the previous ``target`` is swapped out and the new one moved into place (``os.replace`` of
folders on the same file system); on an error the temporary folder is removed and the previous
outputs stay as they were. ``atomic_file`` does the same for one file.

A process killed outright (``kill -9``, power loss) cannot clean up: its temporary folder
(``.P.tmp-<pid>-…``) stays beside the target, hidden, and the target itself is untouched. The
next run removes such leftovers of dead processes, and if the kill came between the two
renames of the swap it puts the previous outputs (``.P.old-<pid>``) back first. An Excel/WPS
lock file (``~$name.xlsx``) in the target folder means an output is open: that is refused
with a clear message before anything is written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from revstat.errors import OutputError
from revstat.i18n import t
from revstat.model import Location


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours (EPERM), or not supported: leave it alone
        return True
    return True


def _leftover_pid(name: str, prefix: str) -> int | None:
    rest = name[len(prefix):] if name.startswith(prefix) else ""
    digits = rest.split("-", 1)[0].split(".", 1)[0]
    return int(digits) if digits.isdigit() else None


def clean_leftovers(target: Path) -> None:
    """Remove temporary files/folders that dead processes left beside ``target``; restore the
    previous ``target`` if a process died between the two renames of a swap."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    for kind in ("old", "tmp"):
        prefix = f".{target.name}.{kind}-"
        for item in sorted(target.parent.glob(f"{glob_escape(prefix)}*")):
            pid = _leftover_pid(item.name, prefix)
            if pid is None or _pid_alive(pid):
                continue
            if kind == "old" and not target.exists():
                os.replace(item, target)
            elif item.is_dir():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _refuse_open_outputs(target: Path) -> None:
    if not target.is_dir():
        return
    locks = sorted(p.name for p in target.glob("~$*"))
    if locks:
        name = locks[0][2:]
        raise OutputError(
            t("输出文件 {name} 正在 Excel/WPS 中打开（有锁文件 {lock}）", "output {name} is open in Excel/WPS (lock file {lock})",
              name=name, lock=locks[0]),
            Location(str(target / locks[0])),
            t("关闭该文件后重试；若它并未打开，删除锁文件 {lock}", "close it and retry; if it is not open, delete the lock file {lock}",
              lock=locks[0]),
        )


#: What the system said, for people (its own words stay beside it, for searching).
_ERRNO_ZH = {
    errno.EACCES: "没有写入权限", errno.EPERM: "不允许写入（文件夹只读或被锁定）", errno.EROFS: "所在磁盘是只读的",
    errno.ENOSPC: "磁盘空间不足", errno.EDQUOT: "超出磁盘配额", errno.EEXIST: "同名的文件已存在",
    errno.ENOTDIR: "路径中有同名的文件挡住了文件夹", errno.EISDIR: "同名的文件夹挡住了文件", errno.EBUSY: "文件正被占用",
    errno.ENAMETOOLONG: "路径太长",
}


def _output_error(exc: OSError, target: Path, *, at_target: bool = False) -> OutputError:
    """``at_target``: name the output itself rather than the file the system call failed on (a
    temporary name beside it means nothing to the user)."""
    return OutputError(
        t("无法写入输出：{why}（{e}）", "cannot write the outputs: {e}", e=exc.strerror or str(exc),
          why=_ERRNO_ZH.get(exc.errno or 0, "系统拒绝了写入")),
        Location(str(target if at_target else exc.filename or target)),
        t("关闭在 Excel/WPS 中打开的输出文件，检查磁盘空间和写入权限后重试",
          "close output files open in Excel/WPS, check disk space and permissions, and retry"),
    )


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    target = Path(target)
    try:  # a read-only or full output folder is the user's to fix, not a crash
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(target)
        _refuse_open_outputs(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise _output_error(exc, target, at_target=True) from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; outputs are shared like any folder
        yield tmp
        if target.is_dir():  # keep outputs other commands wrote (e.g. reports) unless replaced
            for item in target.iterdir():
                dest = tmp / item.name
                if dest.exists() or dest.is_symlink():
                    continue  # written anew: the old one is not copied only to be overwritten
                if item.is_dir():
                    shutil.copytree(item, dest)
                else:
                    shutil.copy2(item, dest)
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old.exists():
                os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _output_error(exc, target) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "wb") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it replaces ``target`` on success."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(target)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-{os.getpid()}-", suffix=".tmp", dir=target.parent)
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        finally:
            os.close(fd)
    except OSError as exc:
        raise _output_error(exc, target, at_target=True) from None
    tmp = Path(name)
    try:
        try:
            yield tmp
        except OSError as exc:  # writing the temporary file: disk full, quota …
            raise _output_error(exc, target, at_target=True) from None
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(
                t("无法替换 {name}：文件可能正在 Excel/WPS 中打开", "cannot replace {name}: it may be open in Excel/WPS",
                  name=target.name),
                Location(str(target)),
                t("关闭该文件后重试，或用 --output 指定其他位置", "close it and retry, or use --output"),
            ) from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
