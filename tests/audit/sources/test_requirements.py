"""requirements files read as pip reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from graviton.audit.sources import load
from graviton.errors import InputError
from graviton.findings import Location, Pin
from tests.audit.sources.conftest import Write, by_key


def pins(path: Path, display: str = "requirements.txt") -> dict[str, Pin]:
    return by_key(load(path, display).pins)


def error(path: Path, display: str = "requirements.txt") -> InputError:
    with pytest.raises(InputError) as caught:
        load(path, display)
    assert caught.value.exit_code == 2
    return caught.value


def test_index_options_go_into_the_manifest_and_other_options_are_ignored(write: Write) -> None:
    path = write(
        "requirements.txt",
        """
        --index-url https://mirror.example/simple
        --extra-index-url=https://wheels.example/simple
        -f https://wheels.example/links
        --pre
        --prefer-binary
        --trusted-host mirror.example
        --only-binary :all:
        --no-binary shioaji
        --extra-index-url https://wheels.example/simple
        numpy==1.26.4
        """,
    )
    manifest = load(path)
    assert manifest.format == "requirements"
    assert manifest.index_url == "https://mirror.example/simple"
    assert manifest.extra_index_urls == ("https://wheels.example/simple",)
    assert [(p.name, p.version, p.location.line) for p in manifest.pins] == [
        ("numpy", "1.26.4", 10)
    ]


def test_short_index_option_and_last_index_url_wins(write: Write) -> None:
    path = write("r.txt", "-i https://a.example/simple\n-i https://b.example/simple\nidna\n")
    assert load(path).index_url == "https://b.example/simple"


def test_comments_need_whitespace_before_the_hash(write: Write) -> None:
    path = write(
        "requirements.txt",
        """
        # a comment line
          # an indented comment
        idna==3.10  # via requests
        lib @ git+https://github.com/org/lib.git#egg=lib
        """,
    )
    found = pins(path)
    assert found["idna"].location.line == 3
    assert found["lib"].url == "git+https://github.com/org/lib.git#egg=lib"


def test_a_continued_line_is_one_pin_at_its_first_line(write: Write) -> None:
    path = write(
        "requirements.txt",
        """
        certifi==2024.8.30 \\
            --hash=sha256:922820b53db7a7257ffbda3f597266d435245903d80737e34f8a45ff3e3230d8 \\
            --hash=sha256:bec941d2aa8195e248a60b31ff9f0558284cf01a52591ceda73ea9afffd69fd9
            # via requests
        pywin32==308 \\
            ; sys_platform == "win32"
        urllib3\\
        ==2.2.3
        idna==3.10 \\
        # a comment ends the continuation
        """,
    )
    found = pins(path)
    assert (found["certifi"].version, found["certifi"].location.line) == ("2024.8.30", 1)
    assert found["pywin32"].marker == 'sys_platform == "win32"'
    assert found["pywin32"].location.line == 5
    assert (found["urllib3"].version, found["urllib3"].location.line) == ("2.2.3", 7)
    assert (found["idna"].version, found["idna"].location.line) == ("3.10", 9)


def test_environment_variables_are_expanded_as_pip_does(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GV_NUMPY", "1.26.4")
    monkeypatch.setenv("GV_TOKEN", "s3cret")
    monkeypatch.setenv("GV_EMPTY", "")
    monkeypatch.setenv("gv_lower", "9")
    monkeypatch.delenv("GV_UNSET", raising=False)
    path = write(
        "requirements.txt",
        """
        --extra-index-url https://user:${GV_TOKEN}@pkgs.example/simple
        --extra-index-url https://${GV_UNSET}@other.example/simple
        --extra-index-url https://${GV_EMPTY}@third.example/simple
        numpy==${GV_NUMPY}
        idna==${gv_lower}
        """,
    )
    with pytest.raises(InputError) as caught:
        load(path, "requirements.txt")
    assert (caught.value.path, caught.value.line) == ("requirements.txt", 5)  # ${gv_lower} kept
    path.write_text(path.read_text().replace("idna==${gv_lower}\n", ""))
    manifest = load(path)
    assert manifest.extra_index_urls == (
        "https://user:s3cret@pkgs.example/simple",
        "https://${GV_UNSET}@other.example/simple",
        "https://${GV_EMPTY}@third.example/simple",
    )
    assert manifest.pins[0].version == "1.26.4"


def test_includes_are_relative_to_the_including_file_and_keep_their_own_lines(
    write: Write,
) -> None:
    write("reqs/base.txt", "# shared\nnumpy==1.26.4\n-r common/net.txt\n")
    write("reqs/common/net.txt", "# net\nrequests==2.32.3\n")
    top = write("reqs/prod.txt", "--requirement=base.txt\nshioaji==1.2.5\n")
    found = pins(top, "reqs/prod.txt")
    assert found["numpy"].location == Location("reqs/base.txt", 2)
    assert found["requests"].location == Location("reqs/common/net.txt", 2)
    assert found["shioaji"].location == Location("reqs/prod.txt", 2)


def test_an_include_cycle_is_an_error_at_the_line_that_closes_it(write: Write) -> None:
    write("a.txt", "idna==3.10\n-r b.txt\n")
    write("b.txt", "# b\n\n-r a.txt\n")
    failure = error(write("top.txt", "-r a.txt\n"), "top.txt")
    assert (failure.path, failure.line) == ("b.txt", 3)
    assert "include cycle: a.txt -> b.txt -> a.txt" in str(failure)


def test_a_missing_include_is_an_error_at_the_including_line(write: Write) -> None:
    failure = error(write("requirements.txt", "idna==3.10\n-r missing.txt\n"))
    assert failure.line == 2
    assert "missing.txt" in str(failure)


def test_a_remote_include_is_refused(write: Write) -> None:
    failure = error(write("requirements.txt", "-r https://example.com/r.txt\n"))
    assert failure.line == 1


def test_an_exact_constraint_pins_a_requirement_at_the_requirement_line(write: Write) -> None:
    write("constraints.txt", "requests==2.32.3\nurllib3==2.2.3\n-r more.txt\n")
    write("more.txt", "idna==3.10\n")
    path = write(
        "requirements.in",
        """
        -c constraints.txt
        requests[socks]>=2.31
        idna
        numpy>=1.26
        """,
    )
    found = pins(path, "requirements.in")
    assert set(found) == {"requests", "idna", "numpy"}  # constraints alone are not pins
    assert (found["requests"].version, found["requests"].specifier) == ("2.32.3", ">=2.31")
    assert found["requests"].location == Location("requirements.in", 2)
    assert found["idna"].version == "3.10"  # a -r inside a constraints file constrains
    assert found["numpy"].version is None
    assert [pin.key for pin in load(path).unpinned] == ["numpy"]


def test_a_requirement_the_constraint_excludes_is_an_error(write: Write) -> None:
    write("c.txt", "requests==2.32.3\n")
    failure = error(write("requirements.in", "-c c.txt\n\nrequests>=3\n"), "requirements.in")
    assert failure.line == 3
    assert "c.txt:1" in str(failure)


def test_editables_and_links_are_not_constraints(write: Write) -> None:
    write("c1.txt", "-e git+https://github.com/org/lib.git#egg=lib\n")
    assert error(write("r1.txt", "-c c1.txt\n")).path == "c1.txt"
    write("c2.txt", "lib @ https://example.com/lib-1.0.tar.gz\n")
    assert error(write("r2.txt", "-c c2.txt\n")).line == 1


def test_malformed_requirement_names_file_and_line(write: Write) -> None:
    failure = error(write("requirements.txt", "idna==3.10\n\nrequests>=2 bad\n"))
    assert (failure.path, failure.line) == ("requirements.txt", 3)
    assert str(failure).startswith("requirements.txt:3: invalid requirement 'requests>=2 bad'")
    assert "\n" not in str(failure)


@pytest.mark.parametrize(
    "line", ["--no-such-option", "-r", "numpy==1.26.4 --hash", 'numpy --hash="sha256:1']
)
def test_bad_options_are_errors_at_their_line(write: Write, line: str) -> None:
    assert error(write("requirements.txt", f"idna\n{line}\n")).line == 2


def test_hashes_and_per_requirement_options_are_accepted(write: Write) -> None:
    path = write(
        "requirements.txt",
        'numpy==1.26.4 --hash=sha256:abc --hash sha256:def --config-settings "k=v"\n',
    )
    assert pins(path)["numpy"].version == "1.26.4"


def test_only_equality_without_wildcard_is_exact(write: Write) -> None:
    path = write(
        "requirements.txt",
        """
        numpy==1.*
        idna===3.10
        certifi>=2024,==2024.8.30
        urllib3~=2.2
        requests>=2.31 , <3
        """,
    )
    found = pins(path)
    assert (found["numpy"].version, found["numpy"].specifier) == (None, "==1.*")
    assert found["idna"].version == "3.10"
    assert found["certifi"].version == "2024.8.30"
    assert found["certifi"].specifier == ">=2024,==2024.8.30"
    assert found["urllib3"].version is None
    assert found["requests"].specifier == ">=2.31,<3"


def test_markers_and_extras_are_normalised(write: Write) -> None:
    path = write(
        "requirements.txt",
        "pywin32==308; sys_platform=='win32'\nrequests[socks, security]==2.32.3\n",
    )
    found = pins(path)
    assert found["pywin32"].marker == 'sys_platform == "win32"'
    assert found["requests"].extras == ("security", "socks")


def test_the_same_pin_twice_is_one_pin_and_two_versions_are_an_error(write: Write) -> None:
    write("base.txt", "requests==2.32.3\n")
    path = write("requirements.txt", "-r base.txt\nrequests[socks]==2.32.3\n")
    (requests,) = load(path, "requirements.txt").pins
    assert requests.location == Location("base.txt", 1)
    assert requests.extras == ("socks",)
    failure = error(write("conflict.txt", "-r base.txt\n\nrequests==2.31.0\n"), "conflict.txt")
    assert failure.line == 3
    assert "base.txt:1" in str(failure)


def test_one_name_may_have_a_version_per_marker(write: Write) -> None:
    path = write(
        "requirements.txt",
        'numpy==1.24.4 ; python_version < "3.9"\nnumpy==1.26.4 ; python_version >= "3.9"\n',
    )
    assert sorted(p.version or "" for p in load(path).pins) == ["1.24.4", "1.26.4"]


def test_direct_references_are_reported_with_their_url(write: Write) -> None:
    write("vendor/bridge/setup.py", "")  # pip installs a local directory only if it is a project
    path = write(
        "requirements.txt",
        """
        -e .
        .
        -e git+https://github.com/org/core.git@v2.0#egg=trading-core
        sdk @ https://example.com/sdk-2.0.tar.gz ; sys_platform == "linux"
        https://example.com/w/fastfix-1.4-cp311-cp311-linux_x86_64.whl; python_version >= "3.11"
        ./vendor/bridge[fast]
        ../dist/quote_feed-0.9-py3-none-any.whl
        git+https://github.com/org/unnamed.git@main
        """,
    )
    manifest = load(path)
    found = by_key(manifest.pins)
    assert not manifest.unpinned
    assert len(manifest.pins) == 6  # the project itself (".") is not a pin
    core = found["trading-core"]
    assert (core.url, core.editable, core.location.line) == (
        "git+https://github.com/org/core.git@v2.0#egg=trading-core",
        True,
        3,
    )
    assert found["sdk"].url == "https://example.com/sdk-2.0.tar.gz"
    assert found["sdk"].marker == 'sys_platform == "linux"'
    fastfix = found["fastfix"]
    assert (fastfix.version, fastfix.marker) == ("1.4", 'python_version >= "3.11"')
    assert fastfix.url == "https://example.com/w/fastfix-1.4-cp311-cp311-linux_x86_64.whl"
    bridge = [p for p in manifest.pins if p.url == "./vendor/bridge"]
    assert [(p.name, p.extras) for p in bridge] == [("./vendor/bridge", ("fast",))]
    assert found["quote-feed"].url == "../dist/quote_feed-0.9-py3-none-any.whl"
    unnamed = [p for p in manifest.pins if p.url == "git+https://github.com/org/unnamed.git@main"]
    assert len(unnamed) == 1
