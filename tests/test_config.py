"""``[tool.graviton]``: one typed loader; every bad value is one line naming the key (exit 2)."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from graviton.config import (
    AuditConfig,
    Config,
    GateConfig,
    IgnoreEntry,
    ImageConfig,
    load_config,
)
from graviton.errors import InputError


def write(folder: Path, text: str) -> Path:
    (folder / ".git").mkdir(exist_ok=True)  # the search stops at the repository root
    path = folder / "pyproject.toml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def failure(folder: Path, text: str) -> str:
    path = write(folder, text)
    with pytest.raises(InputError) as caught:
        load_config(folder)
    message = str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in message
    assert message.startswith(f"{path}")
    return message


def test_no_pyproject_gives_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert load_config(tmp_path) == Config()


def test_every_section_is_read_into_its_dataclass(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [tool.graviton.audit]
        python = ["3.11", "3.12"]
        target = "al2023"
        fail-on = "unknown"
        index-url = "https://mirror.example/simple"
        ignore = [{ name = "shioaji", version = "1.2.5", reason = "OPS-12", expires = 2027-01-31 }]

        [tool.graviton.gate]
        images = ["registry.example/api:1"]
        dockerfiles = false
        fail-on = "source"
        base-images = false
        ignore = [{ name = "GVD005", reason = "checksummed", expires = 2027-01-31 }]

        [tool.graviton.images.api]
        context = "services/api"
        tags = "registry.example/api:1"
        args = { PYTHON = "3.12" }
        """,
    )
    config = load_config(tmp_path)
    shioaji = IgnoreEntry("shioaji", "OPS-12", dt.date(2027, 1, 31), "1.2.5")
    assert config.path == path
    assert config.audit == AuditConfig(
        python=("3.11", "3.12"),
        target="al2023",
        fail_on="unknown",
        index_url="https://mirror.example/simple",
        ignore=(shioaji,),
    )
    gvd = IgnoreEntry("GVD005", "checksummed", dt.date(2027, 1, 31))
    assert config.gate == GateConfig(
        audit=AuditConfig(
            python=("3.11", "3.12"),
            target="al2023",
            fail_on="source",  # the gate's own value wins
            index_url="https://mirror.example/simple",
            ignore=(shioaji, gvd),  # the two lists are joined
        ),
        images=("registry.example/api:1",),
        dockerfiles=(),
        base_images=False,
    )
    assert config.images == (
        ImageConfig(
            name="api",
            tags=("registry.example/api:1",),
            context="services/api",
            args=(("PYTHON", "3.12"),),
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[tool.graviton.audit]\nfail-on = "everything"\n',
            "[tool.graviton.audit] fail-on must be one of blocked, unknown, source; "
            "got 'everything'",
        ),
        ("[tool.graviton.gate]\nfail-on = 3\n", "[tool.graviton.gate] fail-on must be"),
        ("[tool.graviton.audit]\nfail_on = 'blocked'\n", "unknown key 'fail_on'"),
        ("[tool.graviton.audit]\npython = 3.10\n", "python must be a version string"),
        ("[tool.graviton.audit]\nglibc = 2.28\n", "glibc must be a non-empty string"),
        ("[tool.graviton.audit]\nignore = 'x'\n", "ignore must be a list of tables"),
        (
            "[tool.graviton.audit]\nignore = [{ name = 'x', reason = 'y', expires = 'soon' }]\n",
            "expiry must be a date",
        ),
        ("[tool.graviton]\naudit = 1\n", "[tool.graviton.audit] must be a table"),
        ("[tool.graviton.gate]\nimages = 'x'\n", "[tool.graviton.gate] images must be a list"),
        ("[tool.graviton.gate]\nbase-images = 'no'\n", "base-images must be true or false"),
        ("[tool.graviton.images.api]\ncontext = '.'\n", "tags = ["),
        ("[tool.graviton.images.api]\ntags = ['a']\nsecrets = 1\n", "unknown key 'secrets'"),
        ("[tool.graviton.audit\n", "invalid TOML"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in failure(tmp_path, text)


def test_the_gate_table_is_validated(tmp_path: Path) -> None:
    write(tmp_path, '[tool.graviton.gate]\nfail-on = "never"\n')
    with pytest.raises(InputError, match="fail-on must be one of"):
        load_config(tmp_path)


def test_an_unreadable_pyproject_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.graviton]\n\xff\xfe\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_config(tmp_path)


def test_other_tools_and_graviton_sections_are_not_judged(tmp_path: Path) -> None:
    write(tmp_path, "[tool.ruff]\nline-length = 100\n[tool.graviton.shift]\nsteps = 4\n")
    assert load_config(tmp_path).audit == AuditConfig()
