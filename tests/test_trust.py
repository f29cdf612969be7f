"""graviton's requests session: the environment's proxies and CA bundle as requests reads them,
read once per host."""

from __future__ import annotations

import pytest
import requests

from graviton.trust import SteadySession

URLS = [
    "https://pypi.example/simple/demo/",
    "https://files.example/packages/ab/demo-1.0-py3-none-any.whl",
    "http://127.0.0.1:8080/simple/demo/",
    "https://files.example/other",
]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3129")
    monkeypatch.setenv("NO_PROXY", "files.example,127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/some/bundle.pem")


@pytest.mark.usefixtures("environment")
def test_the_settings_are_what_requests_reads_from_the_environment() -> None:
    plain, steady = requests.Session(), SteadySession()
    for url in URLS * 2:
        for stream, verify in ((False, True), (True, True), (True, False), (False, "/ca.pem")):
            want = plain.merge_environment_settings(url, {}, stream, verify, None)
            assert steady.merge_environment_settings(url, {}, stream, verify, None) == want
    mine = {"https": "http://mine.example:1"}
    assert steady.merge_environment_settings(URLS[1], mine, False, True, None)["proxies"] == mine


@pytest.mark.usefixtures("environment")
def test_the_environment_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    steady = SteadySession()
    first = steady.merge_environment_settings(URLS[0], {}, False, True, None)
    assert first["proxies"]["https"] == "http://proxy.example:3128"
    first["proxies"]["https"] = "changed by a caller"  # the kept settings are not shared
    monkeypatch.setenv("HTTPS_PROXY", "http://later.example:1")
    again = steady.merge_environment_settings(URLS[0], {}, False, True, None)
    assert again["proxies"]["https"] == "http://proxy.example:3128"
    other = steady.merge_environment_settings("https://new.example/", {}, False, True, None)
    assert other["proxies"]["https"] == "http://later.example:1"
    steady.trust_env = False  # told not to read it: nothing from it
    assert (
        "https" not in steady.merge_environment_settings(URLS[0], {}, False, True, None)["proxies"]
    )
