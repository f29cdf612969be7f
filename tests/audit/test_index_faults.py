"""``graviton audit`` never passes an index it could not read: each fault is served by a real
HTTP server on 127.0.0.1 and must end in exit 3 (2 for a URL that cannot be an index) with one
line on stderr naming the index, nothing on stdout and no traceback."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from graviton.index.cache import CACHE_FORMAT, DB_NAME
from tests.audit.index_server import IndexServer
from tests.audit.test_cli import run


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("graviton: error: ") and "Traceback" not in stderr
    return lines[0]


def audit(
    index_url: str, pins: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(pins)
    proc = run(
        str(reqs),
        "--index-url",
        index_url,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--format",
        "json",
        *args,
        env=env,
    )
    return proc.returncode, proc.stdout, proc.stderr


# (index URL for the server, pins, extra args, env, what the line must say)
Case = tuple[Callable[[IndexServer], str], str, tuple[str, ...], dict[str, str], str]
CASES: dict[str, Case] = {
    "login page for every project": (
        lambda s: f"{s.base}/login/",
        "numpy==1.26.4\n",
        (),
        {},
        r"/login/numpy/: answered an HTML page that is not a PEP 503 project page "
        r"\(page title 'Sign in - Artifactory'\)",
    ),
    "one project answers 200 'Access denied'": (
        lambda s: s.url,
        "numpy==1.26.4\naccess-denied==1.0\nrequests==2.32.3\n",
        (),
        {},
        r"/simple/access-denied/: answered an HTML page that is not a PEP 503 project page "
        r"\(page title 'Access denied'\)",
    ),
    "200 without Content-Type, binary body": (
        lambda s: s.url,
        "untyped-binary==1.0\nnumpy==1.26.4\n",
        (),
        {},
        r"/simple/untyped-binary/: answered without a Content-Type and not with JSON or HTML",
    ),
    "a page over the size cap": (
        lambda s: s.url,
        "huge==1.0\n",
        (),
        {"GRAVITON_MAX_PAGE_SIZE": "1MiB"},
        r"/simple/huge/: page is larger than the 1 MiB cap \(raise it with "
        r"GRAVITON_MAX_PAGE_SIZE",
    ),
    "every project 404 (/simpel/ for /simple/)": (
        lambda s: f"{s.base}/simpel/",
        "shioaji==1.2.5\nnumpy==1.26.4\n",
        (),
        {},
        r"/simpel/: none of the 2 pinned projects \(shioaji, numpy\) is on this index "
        r"\(every page answered 404\): is the index URL right\?",
    ),
    "a server dripping one byte every 5 s": (
        lambda s: s.url,
        "drip==1.0\nnumpy==1.26.4\n",
        ("--timeout", "2s"),
        {},
        r"/simple/drip/: no complete answer within 2s \(--timeout\)",
    ),
    "a server dripping its headers": (
        lambda s: s.url,
        "drip-head==1.0\n",
        ("--timeout", "2s"),
        {},
        r"/simple/drip-head/: no complete answer within 2s \(--timeout\)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_index_fault_is_exit_3_with_one_line(case: str, tmp_path: Path) -> None:
    url_of, pins, args, env, message = CASES[case]
    with IndexServer() as server:
        code, out, err = audit(url_of(server), pins, tmp_path, *args, env=env)
    assert code == 3, (code, out, err)
    assert out == ""
    line = one_error_line(err)
    assert re.search(re.escape(server.base) + ".*" + message, line), line


def test_pins_that_exist_still_pass_next_to_404s(index: IndexServer, tmp_path: Path) -> None:
    """The 'nothing found' rule is about the run: one pin the index lacks is ``unknown``."""
    code, out, err = audit(index.url, "numpy==1.26.4\nnot-there==1.0\n", tmp_path)
    assert code == 0, err
    verdicts = {p["name"]: p["verdict"] for p in json.loads(out)["packages"]}
    assert verdicts == {"numpy": "native", "not-there": "unknown"}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999/simple/", "Port out of range"),
        ("http://[::1/simple/", "Invalid IPv6 URL"),
        ("http://[fe80::zz]/simple/", "does not appear to be an IPv4 or IPv6 address"),
        ("http://127.0.0.1:port/simple/", "Port could not be cast"),
        ("ftp://127.0.0.1/simple/", "scheme ftp: is not http or https"),
        ("https:///simple/", "no host"),
    ],
)
def test_an_index_url_that_cannot_be_one_is_exit_2(url: str, problem: str, tmp_path: Path) -> None:
    code, out, err = audit(url, "numpy==1.26.4\n", tmp_path)
    assert code == 2 and out == "", err
    line = one_error_line(err)
    assert "--index-url" in line and problem in line
    code, _, err = audit(
        "https://pypi.org/simple/", "numpy==1.26.4\n", tmp_path, "--extra-index-url", url
    )
    assert code == 2 and "--extra-index-url" in one_error_line(err)


def test_an_index_url_in_a_file_that_cannot_be_one_is_exit_2(tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("--index-url http://127.0.0.1:99999/simple/\nnumpy==1.26.4\n")
    proc = run(str(reqs), "--no-cache")
    assert proc.returncode == 2
    assert "Port out of range" in one_error_line(proc.stderr)


@pytest.mark.parametrize("value", ["0", "soon", "-5s"])
def test_a_bad_timeout_is_exit_2(value: str, index: IndexServer, tmp_path: Path) -> None:
    code, out, err = audit(index.url, "numpy==1.26.4\n", tmp_path, "--timeout", value)
    assert code == 2 and out == ""
    assert "--timeout" in one_error_line(err)


@pytest.mark.parametrize(
    "shape",
    [
        "[]",
        '"text"',
        '{"format": %F}',
        '{"format": %F, "url": "%s", "releases": [], "fetched": 1, "max_age": 600}',
        '{"format": %F, "url": "%s", "releases": {"1.0": 5}, "fetched": 1, "max_age": 600}',
        '{"format": %F, "url": "%s", "releases": {"1.0": "a\\tb"}, "fetched": 1, "max_age": 600}',
        '{"format": %F, "url": "%s", "releases": {}, "fetched": "x", "max_age": 600}',
        '{"format": %F, "url": "%s", "releases": {"not-a-version": "a-x.whl\\t\\t"}, '
        '"fetched": 1e12, "max_age": 600}',
        '{"format": %F, "url": "%s", "releases": {}, "fetched": 1e12, "max_age": 600, '
        '"since": "not a version"}',
        '{"format": %F, "url": "%s", "releases": {}, "fetched": 1, "max_age": null}',
        "{not json",
    ],
)
def test_a_cache_entry_of_the_wrong_shape_is_a_miss(
    shape: str, index: IndexServer, tmp_path: Path
) -> None:
    code, first, err = audit(index.url, "numpy==1.26.4\n", tmp_path)
    assert code == 0, err
    doc = shape.replace("%s", f"{index.url}numpy/").replace("%F", str(CACHE_FORMAT))
    with sqlite3.connect(tmp_path / "cache" / DB_NAME) as db:
        changed = db.execute("UPDATE entries SET doc = ? WHERE kind = 'page'", (doc,)).rowcount
    assert changed == 1
    code, again, err = audit(index.url, "numpy==1.26.4\n", tmp_path)
    assert code == 0 and "Traceback" not in err, err
    assert json.loads(again)["packages"] == json.loads(first)["packages"]


def test_a_cache_file_that_is_not_a_database_is_a_miss(index: IndexServer, tmp_path: Path) -> None:
    code, first, err = audit(index.url, "numpy==1.26.4\n", tmp_path)
    assert code == 0, err
    for path in (tmp_path / "cache").glob(DB_NAME + "*"):
        path.write_bytes(b"not a database\0" * 100)
    code, again, err = audit(index.url, "numpy==1.26.4\n", tmp_path)
    assert code == 0 and "Traceback" not in err, err
    assert json.loads(again)["packages"] == json.loads(first)["packages"]
