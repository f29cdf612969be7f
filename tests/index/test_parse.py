"""PEP 691 pages through both JSON backends (pysimdjson's lazy view, orjson's objects): the same
releases from the same page, and the same refusal of anything that is not a PEP 691 page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from graviton.index import parse
from graviton.index.model import DistFile, IndexUnavailable, group_files
from graviton.index.parse import parse_json_page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "index"
PAGES = sorted(FIXTURES.glob("*.json"))
BACKENDS = ["orjson", "simdjson"]
URL = "https://idx.example/simple/demo/"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "simdjson" and parse.simdjson is None:
        pytest.fail("pysimdjson is a dependency where it ships wheels; it is not installed here")
    monkeypatch.setattr(parse, "JSON_BACKEND", request.param)
    yield request.param


def reference(page: bytes, since: str | None) -> dict[str, str]:
    """What the page holds, read by the standard library and grouped by the model."""
    files = [
        DistFile(
            f["filename"],
            f.get("requires-python"),
            f.get("yanked"),  # type: ignore[arg-type]
            (f.get("hashes") or {}).get("sha256"),
            parse.file_url(URL, f["url"]),
        )
        for f in json.loads(page)["files"]
    ]
    return group_files(files, since)


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
@pytest.mark.parametrize("since", [None, "0.1", "1.2.6", "2.0.0", "99"])
def test_both_backends_read_what_the_page_holds(backend: str, path: Path, since: str) -> None:
    page = path.read_bytes()
    assert parse_json_page(page, URL, since) == reference(page, since)


def test_a_page_may_come_as_text_or_bytes(backend: str) -> None:
    page = (FIXTURES / "numpy.json").read_bytes()
    as_text = parse_json_page(page.decode(), URL)
    assert as_text == parse_json_page(bytearray(page), URL) == parse_json_page(page, URL)
    assert as_text


def entry(**fields: object) -> dict[str, object]:
    return {"filename": "demo-1.0-py3-none-any.whl", "url": "https://f.example/x.whl", **fields}


MALFORMED = {
    "not json": b"<html><body>Sign in</body></html>",
    "truncated": b'{"meta": {"api-version": "1.1"}, "files": [{"filename": "demo-1.0.tar.gz"',
    "an array": b"[]",
    "a string": b'"files"',
    "trailing garbage": b'{"meta": {"api-version": "1.0"}, "files": []} {}',
    "no files": json.dumps({"meta": {"api-version": "1.0"}}).encode(),
    "files an object": json.dumps({"files": {"filename": "demo-1.0.tar.gz"}}).encode(),
    "files a string": json.dumps({"files": "demo-1.0.tar.gz"}).encode(),
    "files null": json.dumps({"files": None}).encode(),
    "an entry a string": json.dumps({"files": ["demo-1.0.tar.gz"]}).encode(),
    "an entry an array": json.dumps({"files": [["demo-1.0.tar.gz"]]}).encode(),
    "an entry a number": json.dumps({"files": [1]}).encode(),
    "no filename": json.dumps({"files": [{"url": "https://f.example/x.whl"}]}).encode(),
    "filename a number": json.dumps({"files": [entry(filename=10)]}).encode(),
    "filename null": json.dumps({"files": [entry(filename=None)]}).encode(),
    "api-version 2": json.dumps({"meta": {"api-version": "2.0"}, "files": []}).encode(),
    "meta an array": json.dumps({"meta": ["1.0"], "files": []}).encode(),
    "not utf-8": b'{"files": [{"filename": "demo-1.0.tar.gz\xff"}]}',
}


@pytest.mark.parametrize("name", MALFORMED)
def test_what_is_not_a_pep691_page_is_refused_by_both(backend: str, name: str) -> None:
    with pytest.raises(IndexUnavailable, match="malformed PEP 691 answer"):
        parse_json_page(MALFORMED[name], URL)


def test_fields_of_the_wrong_type_are_dropped_not_trusted(backend: str) -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "files": [
            entry(hashes=["sha256"], url=5, **{"requires-python": None}),
            entry(filename="demo-1.0.tar.gz", hashes={"sha256": 7}, yanked="bad build"),
            entry(filename="demo-0.9.tar.gz", hashes="x"),
        ],
    }
    releases = parse_json_page(json.dumps(page).encode(), URL)
    assert set(releases) == {"1.0", "0.9"}
    rows = releases["1.0"].split("\n")
    assert rows[0] == "demo-1.0-py3-none-any.whl\t\t\t\t"  # no hash, no URL
    assert rows[1].split("\t")[:4] == ["demo-1.0.tar.gz", "", "y", ""]


def test_a_parser_is_reused_and_a_document_never_outlives_its_page(backend: str) -> None:
    pages = [p.read_bytes() for p in PAGES]
    first = [parse_json_page(p, URL) for p in pages]
    assert [parse_json_page(p, URL) for p in pages] == first


def test_a_refused_page_held_by_its_error_does_not_block_the_next(backend: str) -> None:
    """The error of a refused page keeps its frame, and so its document, alive: the next page
    of the same thread is still read (simdjson refuses to reuse a parser a document holds)."""
    kept: list[BaseException] = []
    for name in ("files an object", "an entry a string", "api-version 2"):
        with pytest.raises(IndexUnavailable) as caught:
            parse_json_page(MALFORMED[name], URL)
        kept.append(caught.value)
        assert parse_json_page(PAGES[0].read_bytes(), URL)
    assert len(kept) == 3
