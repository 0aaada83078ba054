"""Writing a directory (or a file) all or nothing: readers see the old one or the complete new one, never a half."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO


@contextmanager
def replaced_atomically(out_dir: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of ``out_dir`` to fill; on a clean exit it takes ``out_dir``'s place (an existing
    directory is moved aside first and removed after), on an error it is removed and ``out_dir`` is untouched."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # a sibling, so the final rename stays on one filesystem (atomic)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        yield tmp
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


@contextmanager
def file_replaced_atomically(path: Path | str, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Yield a text stream on a temporary sibling of ``path``; on a clean exit it takes ``path``'s place (readers
    see the old file or the complete new one), on an error it is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding=encoding) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
