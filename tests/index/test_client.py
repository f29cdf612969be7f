"""The PEP 691/503 client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import multiprocessing
import re
import time
from pathlib import Path

import pytest
from packaging.version import Version

from graviton.index import (
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


def test_worker_processes_read_what_threads_read(index: IndexServer) -> None:
    names = [("numpy", ()), ("requests", ()), ("shioaji", ()), ("nothere", ())]
    threads = {n: p for n, _, p in IndexClient([index.url]).projects(names)}
    client = IndexClient([index.url], processes=2)
    forked = {n: p for n, _, p in client.projects(names)}
    assert forked == threads and forked["nothere"] is None and forked["numpy"] is not None
    assert client._pool is None  # the workers are gone after the batch
    assert not multiprocessing.active_children()
    with pytest.raises(IndexUnavailable, match="malformed"):
        list(IndexClient([index.url], processes=2).projects([("numpy", ()), ("malformed", ())]))
    assert not multiprocessing.active_children()


def test_a_late_page_in_a_worker_ends_the_batch_and_the_workers() -> None:
    with IndexServer(drip_interval=0.2) as index:
        client = IndexClient([index.url], processes=2, page_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(IndexUnavailable, match=r"drip-head/: no complete answer within 1s"):
            list(client.projects([("numpy", ()), ("drip-head", ())]))
    assert time.monotonic() - started < 8
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("cpus", [1, 2, 4, 16])
def test_a_batch_gets_two_workers_per_cpu_and_more_only_when_big(
    cpus: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graviton.index import client as module

    monkeypatch.setattr(module, "_cpus", lambda: cpus)
    most = max(2, min(8, 3 * cpus))
    monkeypatch.setattr(module, "DEFAULT_JOBS", most)
    sizes = [module.auto_processes(n) for n in range(1, 2000)]
    assert sizes[0] == 1 and sizes == sorted(sizes)  # never more than projects; grows with them
    assert all(1 <= size <= min(most, n) for n, size in enumerate(sizes, 1))
    base = min(most, 2 * cpus)
    assert module.auto_processes(150) == base
    assert module.auto_processes(module.PROJECTS_PER_WORKER * base) == base
    assert module.auto_processes(module.PROJECTS_PER_WORKER * base + 1) == min(most, base + 1)
    assert sizes[-1] == most


def test_no_jobs_given_forks_as_many_workers_as_the_batch_is_worth(
    index: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graviton.index import client as module

    forked: list[int] = []
    start = module.IndexClient._start_pool

    def counting(self: IndexClient, count: int) -> object:
        forked.append(count)
        return start(self, count)

    monkeypatch.setattr(module.IndexClient, "_start_pool", counting)
    names = [("numpy", ()), ("requests", ()), ("shioaji", ())]
    got = {n: p for n, _, p in IndexClient([index.url], processes=None).projects(names)}
    assert forked == [module.auto_processes(3)] and all(got.values())
    assert not multiprocessing.active_children()


def test_the_workers_are_given_more_before_the_caller_gets_a_project(index: IndexServer) -> None:
    """The caller may take its time over a project (judging, inspections): by then each worker
    must already hold its next ones, or it idles until the caller asks again."""
    names = [("numpy", ()), ("requests", ()), ("shioaji", ()), ("htmlonly", ()), ("psycopg2", ())]
    client = IndexClient([index.url], processes=1)
    room = []
    for _ in client.projects(names):
        assert client._pool is not None
        room.append(client._pool.idle())
    assert room[:3] == [0, 0, 0]  # two of five queued at a time: full while any is left
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("processes", [0, 2, None])
def test_only_the_releases_from_since_on_are_kept(
    index: IndexServer, processes: int | None
) -> None:
    client = IndexClient([index.url], processes=processes)
    got = {
        n: p for n, _, p in client.projects([("shioaji", ()), ("numpy", ())], {"shioaji": "1.2.6"})
    }
    shioaji, numpy = got["shioaji"], got["numpy"]
    assert shioaji is not None and numpy is not None
    assert "1.2.6" in shioaji.releases and "1.2.5" not in shioaji.releases
    assert all(Version(v) >= Version("1.2.6") for v in shioaji.releases)
    assert "1.26.4" in numpy.releases  # no floor given: every release


def test_a_cache_entry_answers_only_runs_that_need_no_older_release(
    tmp_path: Path,
) -> None:
    with IndexServer(max_age=600) as index:
        cache = PageCache(tmp_path)
        IndexClient([index.url], cache=cache).project("shioaji", since="1.2.6")
        again = IndexClient([index.url], cache=cache).project("shioaji", since="1.2.6.0")
        assert index.requests_for("shioaji") == 1  # fresh, and it holds 1.2.6 on
        assert again is not None and "1.2.5" not in again.releases
        older = IndexClient([index.url], cache=cache).project("shioaji", since="1.2.5")
        assert index.requests_for("shioaji") == 2  # 1.2.5 was never kept: read again
        assert older is not None and "1.2.5" in older.releases
        offline = IndexClient([index.url], cache=cache, offline=True)
        assert offline.project("shioaji", since="1.3") is not None  # the new entry, from 1.2.5
        with pytest.raises(IndexUnavailable, match="not cached"):
            offline.project("shioaji", since="1.0")


# -- an index it could not read is never an answer -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("login-page", r"not a PEP 503 project page \(page title 'Sign in - Artifactory'\)"),
        ("access-denied", r"not a PEP 503 project page \(page title 'Access denied'\)"),
        ("untyped-binary", "without a Content-Type and not with JSON or HTML"),
    ],
)
def test_a_page_that_is_not_an_index_page_is_an_error(
    index: IndexServer, name: str, message: str
) -> None:
    with pytest.raises(IndexUnavailable, match=message) as info:
        IndexClient([index.url]).project(name)
    assert f"{index.url}{name}/" in str(info.value)


def test_a_page_over_the_size_cap_is_an_error(
    index: IndexServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # streamed without Content-Length: the cap is enforced while reading, not on a header
    with pytest.raises(IndexUnavailable, match=r"larger than the 1 MiB cap"):
        IndexClient([index.url], max_page_bytes=1024 * 1024).project("huge")
    # with Content-Length: refused before the body is read; the cap comes from the environment
    monkeypatch.setenv("GRAVITON_MAX_PAGE_SIZE", "32KiB")
    with pytest.raises(IndexUnavailable, match=r"larger than the 32 KiB cap.*GRAVITON_MAX_PAGE"):
        IndexClient([index.url]).project("numpy")
    assert IndexClient([index.url]).project("requests") is not None  # small pages still pass


@pytest.mark.parametrize("name", ["drip", "drip-head"])
def test_a_dripping_server_hits_the_page_deadline(name: str) -> None:
    with IndexServer(drip_interval=0.2) as index:
        client = IndexClient([index.url], page_timeout=1.0)
        with pytest.raises(IndexUnavailable, match=r"no complete answer within 1s \(--timeout\)"):
            client.project(name)


def test_a_run_over_its_deadline_is_an_error_naming_the_index(index: IndexServer) -> None:
    # each page answers within its own deadline; one after the other, they overrun the run's
    client = IndexClient([index.url], workers=1, run_timeout=3.0, page_timeout=2.9)
    names = [("slow-a", ()), ("slow-b", ()), ("slow-c", ())]
    with pytest.raises(IndexUnavailable) as info:
        list(client.projects(names))
    assert re.fullmatch(
        re.escape(index.url) + r": the index reads did not finish within 3s \(--timeout\); "
        r"\d of 3 projects read",
        str(info.value),
    )


def test_retries_come_from_urllib3_retry_on_the_session(index: IndexServer) -> None:
    from urllib3.util.retry import Retry

    client = IndexClient([index.url], retries=2, backoff=0.01)
    adapter = client._http().get_adapter(index.url)
    assert isinstance(adapter.max_retries, Retry) and adapter.max_retries.total == 2
    assert 503 in adapter.max_retries.status_forcelist


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/simple/",
        "http://[::1/simple/",
        "ftp://user:s3cret@127.0.0.1/simple/",
        "https://user:s3cret@/simple/",
    ],
)
def test_a_url_that_cannot_be_an_index_is_a_usage_error(url: str) -> None:
    from graviton.errors import UsageError

    with pytest.raises(UsageError) as info:
        IndexClient([url])
    assert "s3cret" not in str(info.value) and len(str(info.value).splitlines()) == 1


def test_workers_hand_their_cache_entries_to_the_parent(index: IndexServer, tmp_path: Path) -> None:
    names = [("numpy", ()), ("requests", ()), ("shioaji", ())]
    forked = IndexClient([index.url], cache=PageCache(tmp_path), processes=2)
    first = {n: p for n, _, p in forked.projects(names, {"shioaji": "1.2.6"})}
    offline = IndexClient([index.url], cache=PageCache(tmp_path), offline=True)
    again = {n: p for n, _, p in offline.projects(names, {"shioaji": "1.2.6"})}
    assert again == first and all(p is not None for p in again.values())


def test_what_the_workers_read_stays_cached_when_a_page_fails(
    index: IndexServer, tmp_path: Path
) -> None:
    good = [("numpy", ()), ("requests", ()), ("shioaji", ())]
    forked = IndexClient([index.url], cache=PageCache(tmp_path), processes=1)
    with pytest.raises(IndexUnavailable, match="malformed"):
        list(forked.projects([*good, ("malformed", ())]))  # one worker: read in this order
    offline = IndexClient([index.url], cache=PageCache(tmp_path), offline=True)
    assert all(p is not None for _, _, p in offline.projects(good))


def test_cache_entries_are_written_in_batches_and_all_of_them(
    index: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graviton.index import client as module

    monkeypatch.setattr(module, "WRITE_BATCH", 2)
    names = [("numpy", ()), ("requests", ()), ("shioaji", ()), ("htmlonly", ()), ("psycopg2", ())]
    forked = IndexClient([index.url], cache=PageCache(tmp_path), processes=2)
    first = {n: p for n, _, p in forked.projects(names)}
    offline = IndexClient([index.url], cache=PageCache(tmp_path), offline=True)
    assert {n: p for n, _, p in offline.projects(names)} == first


def test_inspections_are_cached_in_batches_and_all_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inspections running in many threads queue their cache writes; every complete one is in
    the cache once the last has finished (a batch, or the flush when none runs any more)."""
    from concurrent.futures import ThreadPoolExecutor

    from graviton.index import client as module
    from tests.support.native_headers import Member, wheel
    from tests.support.range_server import RangeServer

    monkeypatch.setattr(module, "WRITE_BATCH", 4)
    server = RangeServer().start()
    try:
        urls = [
            server.add(f"/files/p{i}-1.0-py3-none-any.whl", wheel([Member(f"p{i}/tool", b"#!")]))
            for i in range(23)
        ]
        client = IndexClient([server.url + "/simple/"], cache=PageCache(tmp_path), inspections=8)
        with ThreadPoolExecutor(8) as pool:
            first = list(pool.map(client.inspect, urls))
        assert all(r.complete for r in first)
        hits = len(server.hits)
        offline = IndexClient([server.url + "/simple/"], cache=PageCache(tmp_path), offline=True)
        assert [offline.inspect(u) for u in urls] == first
        assert len(server.hits) == hits  # every one answered by the cache
    finally:
        server.stop()
