"""Atomic outputs: a failure never leaves a half-written file or folder.

``atomic_dir(target)`` yields a temporary sibling folder; when the block ends without an error
the previous ``target`` is swapped out and the new one moved into place (``os.replace`` of
folders on the same file system); on an error the temporary folder is removed and the previous
outputs stay as they were. ``atomic_file`` does the same for one file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from revstat.errors import OutputError
from revstat.i18n import t
from revstat.model import Location


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        if target.is_dir():  # keep outputs other commands wrote (e.g. reports) unless replaced
            for item in target.iterdir():
                dest = tmp / item.name
                if item.is_dir():
                    shutil.copytree(item, dest)
                else:
                    shutil.copy2(item, dest)
        yield tmp
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
    except PermissionError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            t("无法写入输出：{e}", "cannot write the outputs: {e}", e=exc.strerror or str(exc)),
            Location(str(exc.filename or target)),
            t("关闭在 Excel/WPS 中打开的输出文件后重试", "close output files open in Excel/WPS and retry"),
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "wb") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it replaces ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise OutputError(
                t("无法替换 {name}：文件可能正在 Excel/WPS 中打开", "cannot replace {name}: it may be open in Excel/WPS",
                  name=target.name),
                Location(str(target)),
                t("关闭该文件后重试，或用 --output 指定其他位置", "close it and retry, or use --output"),
            ) from exc
    finally:
        if tmp.exists():
            tmp.unlink()
