"""Read a user's text file (a lock, a requirements file, pyproject.toml) or fail in one line.

Bounded: a device such as ``/dev/zero``, a binary file or a huge one is an :class:`InputError`
(exit 2) after at most ``MAX_BYTES`` are read, never a hang, a crash or exhausted memory.
"""

from __future__ import annotations

from pathlib import Path

from graviton.errors import InputError

MAX_BYTES = 64 * 1024 * 1024  # the largest lock seen in the wild is a few MB
_CHUNK = 1024 * 1024


def read_text(path: Path, display: str) -> str:
    """The file's text (UTF-8, a BOM is dropped)."""
    chunks: list[bytes] = []
    size = 0
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                if (nul := chunk.find(b"\0")) >= 0:
                    line = sum(c.count(b"\n") for c in chunks) + chunk.count(b"\n", 0, nul) + 1
                    raise InputError(
                        "binary data (a NUL byte), not a text file", path=display, line=line
                    )
                size += len(chunk)
                if size > MAX_BYTES:
                    raise InputError(
                        f"larger than {MAX_BYTES // _CHUNK} MiB: not a lock or requirements file",
                        path=display,
                    )
                chunks.append(chunk)
    except FileNotFoundError:
        raise InputError("no such file", path=display) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=display) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=display) from None
    data = b"".join(chunks)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", path=display, line=line) from None
