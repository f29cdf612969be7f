"""Lines and versions as pip reads them: what pip rejects is exit 2 at file:line, never a pin;
versions compare by PEP 440; every lock format refuses an empty file; a device or binary file
is one line, not a hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graviton import textfile
from graviton.audit.sources import load
from graviton.errors import InputError
from tests.audit.sources.conftest import Write, by_key


def error(path: Path, display: str | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        load(path, display)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    "line",
    [
        "./does-not-exist",
        "numpy/==1.26",
        "../missing/pkg[extra]",
        "root:x:0:0:root:/root:/bin/bash",
        "src/app",
    ],
)
def test_a_line_pip_rejects_is_an_error_at_its_line(write: Write, line: str) -> None:
    path = write("requirements.txt", f"idna==3.10\n{line}\n")
    failure = error(path, "requirements.txt")
    assert (failure.path, failure.line) == ("requirements.txt", 2)


def test_every_line_of_an_included_non_requirements_file_is_rejected(write: Write) -> None:
    passwd = write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/:/sbin/nologin\n")
    path = write("requirements.txt", f"-r {passwd}\n")
    failure = error(path, "requirements.txt")
    assert (failure.path, failure.line) == (str(passwd), 1)


def test_a_local_directory_must_be_a_project(write: Write, tmp_path: Path) -> None:
    (tmp_path / "libs" / "empty").mkdir(parents=True)
    write("libs/core/pyproject.toml", '[project]\nname = "core"\nversion = "1"\n')
    path = write("requirements.txt", "./libs/core\n-e ./libs/core\n")
    assert {p.url for p in load(path).pins} == {"./libs/core"}
    assert "not installable" in str(error(write("r2.txt", "./libs/empty\n")))
    assert error(write("r3.txt", "-e ./libs/nothing\n")).line == 1


def test_an_archive_file_name_is_a_direct_reference_even_if_missing(write: Write) -> None:
    """pip only warns for a missing archive (it fails later, at install)."""
    pins = load(write("requirements.txt", "./dist/quote_feed-0.9-py3-none-any.whl\n")).pins
    assert [(p.name, p.version) for p in pins] == [("quote-feed", "0.9")]


def test_version_spellings_pip_treats_as_one_version_do_not_conflict(write: Write) -> None:
    path = write("requirements.txt", "numpy==2.0\nnumpy==2.0.0\ndjango==4.2.0\n")
    found = by_key(load(path).pins)
    assert found["django"].pinned == "==4.2.0"
    failure = error(write("r2.txt", "numpy==2.0\nnumpy==2.0.1\n"), "r2.txt")
    assert failure.line == 2


def test_arbitrary_equality_is_kept_as_written(write: Write) -> None:
    found = by_key(load(write("requirements.txt", "legacy===1.0-custom\nnumpy==1.26.4\n")).pins)
    assert (found["legacy"].version, found["legacy"].pinned) == ("1.0-custom", "===1.0-custom")
    assert found["legacy"].arbitrary and not found["numpy"].arbitrary


def test_conflicting_pins_in_pyproject_are_an_error(write: Write) -> None:
    path = write(
        "pyproject.toml",
        """
        [project]
        name = "svc"
        version = "1"
        dependencies = ["numpy==1.26.4", "idna==3.10"]

        [project.optional-dependencies]
        fast = ["numpy==2.1.0"]
        """,
    )
    failure = error(path, "pyproject.toml")
    assert (failure.path, failure.line) == ("pyproject.toml", 7)
    assert "numpy" in str(failure)
    same = write(
        "same/pyproject.toml",
        """
        [project]
        name = "svc"
        version = "1"
        dependencies = ["numpy==2.0"]

        [dependency-groups]
        dev = ["numpy==2.0.0"]
        """,
    )
    assert [p.version for p in load(same).pins] == ["2.0", "2.0.0"]


@pytest.mark.parametrize("text", ["", "\n", "# nothing locked\n"])
def test_an_empty_poetry_lock_is_an_error_like_the_other_locks(write: Write, text: str) -> None:
    assert "poetry" in str(error(write("poetry.lock", text)))
    for name in ("uv.lock", "pylock.toml", "Pipfile.lock"):
        error(write(name, text))


def test_an_empty_pipfile_lock_object_is_an_error(write: Write) -> None:
    assert "_meta" in str(error(write("Pipfile.lock", "{}")))


def test_a_device_is_one_line_not_a_hang() -> None:
    failure = error(Path("/dev/zero"), "/dev/zero")
    assert "binary" in str(failure)


def test_binary_and_non_utf8_files_are_one_line(write: Write, tmp_path: Path) -> None:
    blob = tmp_path / "requirements.txt"
    blob.write_bytes(b"numpy==1.26.4\n\x7fELF\x02\x01\x01\x00\x00")
    assert error(blob).line == 2
    latin = tmp_path / "r2.txt"
    latin.write_bytes(b"numpy==1.26.4\ncaf\xe9==1\n")
    assert "UTF-8" in str(error(latin))


def test_a_huge_file_is_refused_after_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(textfile, "MAX_BYTES", 4096)
    big = tmp_path / "requirements.txt"
    big.write_text("numpy==1.26.4\n" * 1000)
    assert "larger than" in str(error(big))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_pipe_is_read(tmp_path: Path) -> None:
    """Process substitution (``<(cat requirements.txt)``) still works: a FIFO is text too."""
    import threading

    fifo = tmp_path / "requirements.txt"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as stream:
            stream.write("numpy==1.26.4\n")

    writer = threading.Thread(target=feed)
    writer.start()
    pins = load(fifo).pins
    writer.join()
    assert [p.name for p in pins] == ["numpy"]
