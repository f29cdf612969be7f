"""Every lock format's hashes reach the pin, as ``"sha256:<lowercase hex>"``."""

from __future__ import annotations

import json

import pytest

from graviton.audit.sources import load
from graviton.errors import InputError
from tests.audit.sources.conftest import Write, by_key

A, B, C = "a" * 64, "B" * 64, "c" * 64


def test_requirements_hash_options_and_pip_compile_continuations(write: Write) -> None:
    path = write(
        "requirements.txt",
        f"""
        # pip-compile --generate-hashes
        numpy==1.26.4 \\
            --hash=sha256:{A} \\
            --hash=sha256:{B}
            # via -r requirements.in
        six==1.16.0 --hash=sha256:{C}
        idna==3.7
        """,
    )
    pins = by_key(load(path).pins)
    assert pins["numpy"].hashes == {f"sha256:{A}", f"sha256:{B.lower()}"}
    assert pins["six"].hashes == {f"sha256:{C}"}
    assert pins["idna"].hashes == frozenset()


def test_requirements_bad_hash_is_bad_input(write: Write) -> None:
    path = write("requirements.txt", "numpy==1.26.4 --hash=sha256-nothex\n")
    with pytest.raises(InputError, match="invalid hash"):
        load(path)


def test_pipfile_lock_hashes(write: Write) -> None:
    doc = {
        "_meta": {
            "pipfile-spec": 6,
            "sources": [{"name": "pypi", "url": "https://pypi.org/simple"}],
        },
        "default": {"numpy": {"version": "==1.26.4", "hashes": [f"sha256:{A}", f"sha256:{B}"]}},
        "develop": {},
    }
    path = write("Pipfile.lock", json.dumps(doc))
    assert by_key(load(path).pins)["numpy"].hashes == {f"sha256:{A}", f"sha256:{B.lower()}"}


def test_poetry_lock_file_hashes(write: Write) -> None:
    path = write(
        "poetry.lock",
        f"""
        [[package]]
        name = "numpy"
        version = "1.26.4"
        description = ""
        optional = false
        python-versions = ">=3.9"
        files = [
            {{file = "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl", hash = "sha256:{A}"}},
            {{file = "numpy-1.26.4.tar.gz", hash = "sha256:{C}"}},
        ]

        [metadata]
        lock-version = "2.0"
        python-versions = "^3.11"
        content-hash = "00"
        """,
    )
    assert by_key(load(path).pins)["numpy"].hashes == {f"sha256:{A}", f"sha256:{C}"}


def test_uv_lock_wheel_and_sdist_hashes(write: Write) -> None:
    path = write(
        "uv.lock",
        f"""
        version = 1
        requires-python = ">=3.11"

        [[package]]
        name = "numpy"
        version = "1.26.4"
        source = {{ registry = "https://pypi.org/simple" }}
        sdist = {{ url = "https://files.example/numpy-1.26.4.tar.gz", hash = "sha256:{C}" }}
        wheels = [{{ url = "https://files.example/numpy-cp311-x86_64.whl", hash = "sha256:{A}" }}]
        """,
    )
    assert by_key(load(path).pins)["numpy"].hashes == {f"sha256:{A}", f"sha256:{C}"}


def test_pylock_hashes_tables(write: Write) -> None:
    path = write(
        "pylock.toml",
        f"""
        lock-version = "1.0"
        created-by = "pip"

        [[packages]]
        name = "numpy"
        version = "1.26.4"
        index = "https://pypi.org/simple/"

        [packages.sdist]
        name = "numpy-1.26.4.tar.gz"
        hashes = {{ sha256 = "{C}" }}

        [[packages.wheels]]
        name = "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl"
        hashes = {{ sha256 = "{A}", sha512 = "{"d" * 128}" }}
        """,
    )
    assert by_key(load(path).pins)["numpy"].hashes == {
        f"sha256:{A}",
        f"sha256:{C}",
        f"sha512:{'d' * 128}",
    }
