"""Each file of a page keeps its sha256 and its URL (PEP 691 ``url``/``hashes``, PEP 503 ``href``
with a ``#sha256=`` fragment), through packing and the cache; older cache entries are misses."""

from __future__ import annotations

import json
from pathlib import Path

from graviton.index import IndexClient, PageCache, parse_html_page, parse_json_page
from graviton.index.cache import CACHE_FORMAT
from graviton.index.model import Project, unpack
from graviton.index.parse import html_releases
from tests.audit.index_server import IndexServer

SHA = "0123456789abcdef" * 4


def test_pep691_url_and_sha256() -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "https://files.example/packages/ab/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": SHA.upper(), "md5": "00"},
            },
            {"filename": "demo-1.0.tar.gz", "url": "../../files/demo-1.0.tar.gz", "hashes": {}},
        ],
    }
    releases = parse_json_page(json.dumps(page), "https://u:p@idx.example/simple/demo/")
    wheel, sdist = unpack(releases["1.0"])
    assert wheel.sha256 == SHA
    assert wheel.url == "https://files.example/packages/ab/demo-1.0-py3-none-any.whl"
    assert sdist.sha256 is None
    assert sdist.url == "https://idx.example/files/demo-1.0.tar.gz"  # relative, no credentials


def test_pep503_href_and_fragment() -> None:
    html = (
        f'<a href="../../files/demo-1.0-py3-none-any.whl#sha256={SHA}">'
        "demo-1.0-py3-none-any.whl</a>"
        '<a href="https://files.example/demo-1.0.tar.gz#md5=00">demo-1.0.tar.gz</a>'
    )
    wheel, sdist = parse_html_page(html, "https://idx.example/simple/demo/")
    assert (wheel.sha256, wheel.url) == (SHA, "https://idx.example/files/demo-1.0-py3-none-any.whl")
    assert (sdist.sha256, sdist.url) == (None, "https://files.example/demo-1.0.tar.gz")
    packed = html_releases(html, "https://idx.example/simple/demo/")["1.0"]
    assert unpack(packed) == (wheel, sdist)


def test_rows_survive_the_cache_and_old_formats_are_misses(tmp_path: Path) -> None:
    with IndexServer() as index:
        client = IndexClient([index.url], cache=PageCache(tmp_path))
        first = client.project("requests")
        assert first is not None
        offline = IndexClient([index.url], cache=PageCache(tmp_path), offline=True)
        again = offline.project("requests")
    assert isinstance(again, Project)
    files = again.files("2.32.3")
    assert files == first.files("2.32.3")
    wheel = next(f for f in files if f.is_wheel)
    assert wheel.sha256 and len(wheel.sha256) == 64
    assert wheel.url and wheel.url.endswith("/files/" + wheel.filename)
    # an entry written by the previous format (every release, no floor) is never read
    cache = PageCache(tmp_path)
    doc = cache.store.get("page", index.url + "requests/")
    assert doc["format"] == CACHE_FORMAT
    doc["format"] = CACHE_FORMAT - 1
    cache.store.put("page", index.url + "requests/", doc)
    assert PageCache(tmp_path).get(index.url + "requests/") is None


def test_credentials_go_back_on_only_for_the_index_host() -> None:
    client = IndexClient(["https://u:p@idx.example/simple/"])
    inspect_url = client._with_credentials
    assert inspect_url("https://idx.example/files/x.whl") == "https://u:p@idx.example/files/x.whl"
    assert inspect_url("https://files.example/x.whl") == "https://files.example/x.whl"
    assert inspect_url("http://idx.example/files/x.whl") == "http://idx.example/files/x.whl"
