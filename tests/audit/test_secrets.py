"""Credentials given to ``graviton audit`` (in ``-i``, ``~/.netrc`` or a requirement URL) never
appear in any output format, any error message or the cache files."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.audit.index_server import IndexServer
from tests.audit.test_cli import run
from tests.audit.test_index_faults import one_error_line

INDEX_SECRET = "s3cr3t-index-pw"
EXTRA_SECRET = "s3cr3t-extra-pw"
REQ_SECRET = "s3cr3t-req-token"
NETRC_SECRET = "s3cr3t-netrc-pw"
SECRETS = (INDEX_SECRET, EXTRA_SECRET, REQ_SECRET, NETRC_SECRET)
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github", "table")


def with_user(url: str, secret: str) -> str:
    return url.replace("http://", f"http://user:{secret}@")


@pytest.fixture
def home(tmp_path: Path, index: IndexServer) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(f"machine localhost login user password {NETRC_SECRET}\n")
    netrc.chmod(0o600)
    return home


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"user:{password}".encode()).decode()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked: {text[:2000]}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_output_format_shows_a_credential(
    fmt: str, index: IndexServer, home: Path, tmp_path: Path
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(
        "shioaji==1.2.5\nnumpy==1.26.4\n"
        # a pure wheel is looked into: on the index's file host, with the URL's credentials
        f"direct @ {with_user(index.files.url, REQ_SECRET)}/files/direct-1.0-py3-none-any.whl\n"
        f"native @ https://user:{REQ_SECRET}@files.example/native-1.0-cp311-cp311-linux_x86_64.whl\n"
        f"vcs @ git+https://user:{REQ_SECRET}@github.com/org/vcs.git@v1\n"
    )
    cache = tmp_path / "cache"
    out = tmp_path / f"report.{fmt}"
    localhost = index.url.replace("127.0.0.1", "localhost")  # where ~/.netrc applies
    proc = run(
        str(reqs),
        "-i",
        with_user(index.url, INDEX_SECRET),
        "--extra-index-url",
        localhost,
        "--python",
        "3.11",
        "--glibc",
        "2.28",
        "--cache-dir",
        str(cache),
        "--format",
        fmt,
        env={"HOME": str(home), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")},
    )
    assert proc.returncode == 1, proc.stderr  # shioaji 1.2.5 is blocked: the report is full
    assert "shioaji" in proc.stdout
    proc_file = run(
        str(reqs),
        "-i",
        with_user(index.url, INDEX_SECRET),
        "--cache-dir",
        str(cache),
        "--format",
        fmt,
        "--output",
        str(out),
        env={"HOME": str(home)},
    )
    assert proc_file.returncode == 1, proc_file.stderr
    cached = [p.read_bytes().decode("utf-8", "replace") for p in cache.rglob("*") if p.is_file()]
    assert cached and any("numpy" in text for text in cached)
    assert_no_secret(
        proc.stdout,
        proc.stderr,
        proc_file.stdout,
        proc_file.stderr,
        out.read_text(),
        (tmp_path / "summary.md").read_text(),
        *cached,
        *(p.name for p in cache.rglob("*")),
    )
    assert index.files.hits_for("/files/direct-1.0-py3-none-any.whl")
    # the credentials were used, not dropped: the URL's for 127.0.0.1, ~/.netrc's for localhost
    seen = {h.get("Authorization", "") for h in index.headers_seen}
    assert {basic(INDEX_SECRET), basic(NETRC_SECRET)} <= seen


@pytest.mark.parametrize(
    ("args", "pins"),
    [
        (("-i", f"ftp://user:{INDEX_SECRET}@127.0.0.1/simple/"), "numpy==1.26.4\n"),
        (("-i", f"https://user:{INDEX_SECRET}@/simple/"), "numpy==1.26.4\n"),
        (("-i", f"http://user:{INDEX_SECRET}@127.0.0.1:99999/simple/"), "numpy==1.26.4\n"),
        (("--extra-index-url", f"http://user:{EXTRA_SECRET}@[::1/simple/"), "numpy==1.26.4\n"),
        ((), f"--index-url ftp://user:{INDEX_SECRET}@127.0.0.1/simple/\nnumpy==1.26.4\n"),
        ((), f"pkg @ https://user:{REQ_SECRET}@files.example/p.whl extra junk ; ;\n"),
        ((), f"pkg @ https://user:{REQ_SECRET}@files.example/p.whl ; python_version >> '3'\n"),
    ],
)
def test_no_error_message_shows_a_credential(
    args: tuple[str, ...], pins: str, tmp_path: Path
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(pins)
    proc = run(str(reqs), "--no-cache", *args)
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc.stderr)
    assert_no_secret(proc.stdout, proc.stderr)


def test_an_unreachable_index_with_credentials_is_reported_without_them(
    dead_url: str, tmp_path: Path
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("numpy==1.26.4\n")
    proc = run(str(reqs), "--no-cache", "-i", with_user(dead_url, INDEX_SECRET))
    assert proc.returncode == 3
    line = one_error_line(proc.stderr)
    assert dead_url.removesuffix("/") in line
    assert_no_secret(proc.stderr)


def test_one_line_strips_credentials_from_any_url() -> None:
    from graviton.errors import InputError, one_line

    text = f"pip said: could not fetch https://u:{REQ_SECRET}@host/x and\n ftp://{INDEX_SECRET}@h/"
    assert one_line(text) == "pip said: could not fetch https://host/x and ftp://h/"
    err = InputError(f"bad line 'pkg @ https://u:{REQ_SECRET}@h/p.whl'", path="r.txt", line=3)
    assert str(err) == "r.txt:3: bad line 'pkg @ https://h/p.whl'"


def test_even_an_unexpected_error_is_one_line_without_credentials() -> None:
    import click
    from click.testing import CliRunner

    from graviton.cli import LazyGroup

    @click.command()
    def boom() -> None:
        raise RuntimeError(f"fetching https://u:{REQ_SECRET}@host/x failed\nTraceback-ish line")

    class Group(LazyGroup):
        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            return boom

    result = CliRunner().invoke(Group(name="graviton"), ["boom"])
    assert result.exit_code == 70
    assert result.output == (
        "graviton: error: RuntimeError: fetching https://host/x failed Traceback-ish line\n"
    )


def test_an_unreadable_direct_wheel_with_credentials_is_reported_without_them(
    dead_url: str, tmp_path: Path
) -> None:
    reqs = tmp_path / "requirements.txt"
    url = with_user(dead_url, REQ_SECRET).replace("/simple/", "/dl/away-1.0-py3-none-any.whl")
    reqs.write_text(f"away @ {url}\n")
    proc = run(str(reqs), "--no-cache")
    assert proc.returncode == 3, proc.stderr
    line = one_error_line(proc.stderr)
    assert "away @ away-1.0-py3-none-any.whl" in line
    assert_no_secret(proc.stdout, proc.stderr)
