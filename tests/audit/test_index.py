"""The PEP 691 client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from graviton.audit.index import (
    IndexClient,
    IndexUnavailable,
    PageCache,
    file_version,
    parse_html_page,
    redact,
)
from tests.audit.index_server import IndexServer


def test_json_page_is_read_and_grouped(index: IndexServer) -> None:
    client = IndexClient([index.url])
    project = client.project("Shioaji")  # the name is normalised into the URL
    assert project is not None
    assert {"1.2.5", "1.2.6"} <= set(project.releases)
    assert index.requests_for("shioaji") == 1
    accept = index.headers_seen[-1]["Accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json")


def test_html_pages_are_read_too(index: IndexServer) -> None:
    project = IndexClient([index.url]).project("htmlonly")
    assert project is not None
    files = project.files("1.0.0")
    assert {f.filename for f in files} == {
        "htmlonly-1.0.0-cp312-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        "htmlonly-1.0.0.tar.gz",
    }
    sdist = next(f for f in files if f.filename.endswith(".tar.gz"))
    assert sdist.yanked and sdist.requires_python == ">=3.8"


def test_404_is_none_not_an_error(index: IndexServer) -> None:
    assert IndexClient([index.url]).project("does-not-exist") is None


def test_5xx_is_retried_then_an_error(index: IndexServer) -> None:
    client = IndexClient([index.url], retries=2, backoff=0.01)
    with pytest.raises(IndexUnavailable, match=r"HTTP 500 \(after 3 attempts"):
        client.project("broken-500")
    assert index.requests_for("broken-500") == 3


def test_malformed_json_is_an_error(index: IndexServer) -> None:
    with pytest.raises(IndexUnavailable, match="malformed"):
        IndexClient([index.url]).project("malformed")


def test_unreachable_index_is_an_error(dead_url: str) -> None:
    client = IndexClient([dead_url], retries=1, backoff=0.01)
    with pytest.raises(IndexUnavailable, match="ConnectionError"):
        client.project("requests")


def test_timeouts_are_retried(index: IndexServer) -> None:
    client = IndexClient([index.url], retries=1, backoff=0.01, timeout=0.3)
    with pytest.raises(IndexUnavailable, match="Timeout"):
        client.project("slow")
    assert index.requests_for("slow") == 2


def test_cache_revalidates_with_etag(index: IndexServer, tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    first = IndexClient([index.url], cache=cache).project("numpy")
    again = IndexClient([index.url], cache=cache).project("numpy")
    assert first == again
    assert index.requests_for("numpy") == 2  # max-age=0: a conditional request each time
    assert "If-None-Match" in index.headers_seen[-1]


def test_fresh_cache_entries_are_not_refetched(tmp_path: Path) -> None:
    with IndexServer(max_age=600) as index:
        cache = PageCache(tmp_path)
        IndexClient([index.url], cache=cache).project("numpy")
        IndexClient([index.url], cache=cache).project("numpy")
        assert index.requests_for("numpy") == 1


def test_offline_answers_from_cache_or_fails(index: IndexServer, tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    IndexClient([index.url], cache=cache).project("requests")
    offline = IndexClient([index.url], cache=cache, offline=True)
    assert offline.project("requests") is not None
    with pytest.raises(IndexUnavailable, match="not cached"):
        offline.project("numpy")
    assert index.requests_for("numpy") == 0


def test_files_from_several_indexes_are_merged(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "shioaji.json").write_text(
        '{"meta": {"api-version": "1.0"}, "files": [{"filename": '
        '"shioaji-9.0.0-cp311-cp311-manylinux_2_17_aarch64.whl", "url": "x", "hashes": {}}]}'
    )
    with IndexServer() as main, IndexServer(extra) as other:
        project = IndexClient([main.url]).project("shioaji", [main.url, other.url])
    assert project is not None and "9.0.0" in project.releases and "1.2.5" in project.releases


def test_many_projects_concurrently(index: IndexServer) -> None:
    names = ["numpy", "requests", "shioaji", "sphinx", "nothere"]
    client = IndexClient([index.url], workers=4)
    got = {name: p for name, _, p in client.projects((n, (index.url,)) for n in names)}
    assert set(got) == set(names) and got["nothere"] is None


def test_credentials_never_appear_in_messages(dead_url: str) -> None:
    url = dead_url.replace("http://", "http://user:s3cret@")
    assert "s3cret" not in redact(url)
    with pytest.raises(IndexUnavailable) as info:
        IndexClient([url], retries=0).project("x")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("numpy-1.26.4-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", "1.26.4"),
        ("psycopg2-2.9.9.tar.gz", "2.9.9"),
        ("zope.interface-6.0.zip", "6.0"),
        ("thing-1.0.tar.bz2", "1.0"),
        ("x-1.0-py2.7.egg", None),
    ],
)
def test_file_version(name: str, version: str | None) -> None:
    assert file_version(name) == version


def test_html_parser_reads_anchor_text_when_href_has_no_name() -> None:
    files = parse_html_page('<a href="/dl?id=3">pkg-1.0-py3-none-any.whl</a>')
    assert files[0].filename == "pkg-1.0-py3-none-any.whl"


def test_big_pages_are_parsed_in_a_worker_process(
    index: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graviton.audit.index as ix

    monkeypatch.setattr(ix, "BIG_PAGE", 0)
    in_process = IndexClient([index.url], parse_processes=0).project("numpy")
    client = IndexClient([index.url], parse_processes=1)
    got = {name: p for name, _, p in client.projects([("numpy", ()), ("malformed", ())][:1])}
    assert client._pool is None  # closed after the batch
    assert got["numpy"] == in_process
    with pytest.raises(IndexUnavailable, match="malformed"):
        IndexClient([index.url], parse_processes=1).project("malformed")
