"""Tiny wheels written by hand (zip + METADATA + WHEEL + RECORD with sha256) for pip to install."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def build_wheel(
    dest: Path, name: str, version: str, tag: str, files: dict[str, bytes], modes: dict[str, int]
) -> Path:
    """``dest/<name>-<version>-<tag>.whl`` holding ``files``; ``modes`` sets unix permissions."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    pure = tag.endswith("-none-any")
    members = dict(files)
    members[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    members[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: graviton-tests\nRoot-Is-Purelib: {str(pure).lower()}\n"
        f"Tag: {tag}\n"
    ).encode()
    record = "".join(f"{path},{_digest(data)},{len(data)}\n" for path, data in members.items())
    record += f"{info}/RECORD,,\n"
    path = dest / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for member, data in [*members.items(), (f"{info}/RECORD", record.encode())]:
            entry = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))
            entry.external_attr = (modes.get(member, 0o644) | 0o100000) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return path
