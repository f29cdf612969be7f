"""graviton.index.remote_zip against real wheels on a real HTTP file host on 127.0.0.1."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Iterator

import pytest
import requests

from graviton.checks.binaries import (
    Arch,
    BinaryFormat,
    NativeVerdict,
    classify,
    header_bytes_needed,
    judge_natives,
)
from graviton.index.remote_zip import (
    Status,
    WheelInspection,
    inspect_wheel,
    may_be_native,
)
from tests.support.native_headers import (
    CPU_ARM64,
    CPU_X86_64,
    EM_AARCH64,
    EM_X86_64,
    PE_AMD64,
    PE_I386,
    Member,
    elf_header,
    fat_header,
    filler,
    pe_header,
    wheel,
)
from tests.support.range_server import RangeServer

X86 = elf_header(EM_X86_64) + filler(300_000, seed=1)
ARM = elf_header(EM_AARCH64) + filler(300_000, seed=2)


@pytest.fixture(scope="module")
def server() -> Iterator[RangeServer]:
    srv = RangeServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture(autouse=True)
def honour_range(server: RangeServer) -> None:
    server.ignore_range = False


_n = iter(range(10_000))


def serve(server: RangeServer, data: bytes) -> tuple[str, str]:
    path = f"/files/demo-{next(_n)}-1.0-py3-none-any.whl"
    return server.add(path, data), path


def verdict(result: WheelInspection) -> NativeVerdict:
    assert result.complete, result.why
    return judge_natives([(h.path, classify(h.head)) for h in result.heads]).verdict


@pytest.mark.parametrize("deflate", [False, True], ids=["stored", "deflated"])
def test_an_x86_64_program_in_a_pure_wheel_is_flagged(
    server: RangeServer, session: requests.Session, deflate: bool
) -> None:
    data = wheel(
        [
            Member("demo/tool_linux64", X86, deflate=deflate, mode=0o755),
            Member(
                "demo/tool_mac64",
                fat_header(CPU_X86_64, CPU_ARM64) + filler(200_000),
                deflate=deflate,
            ),
            Member("demo/data.json", b"{}"),
        ]
    )
    url, path = serve(server, data)
    result = inspect_wheel(url, session, needs=header_bytes_needed)
    assert result.status is Status.COMPLETE and result.why == ""
    assert result.candidates == ("demo/tool_linux64", "demo/tool_mac64")
    heads = {h.path: h for h in result.heads}
    assert heads["demo/tool_linux64"].head == X86[:64]
    assert heads["demo/tool_linux64"].executable
    check = judge_natives([(h.path, classify(h.head)) for h in result.heads])
    assert check.blocked and check.architectures == (Arch.X86_64,)
    assert (
        check.reason
        == "ships demo/tool_linux64, an x86-64 ELF executable, and no aarch64 build of it"
    )
    # the end of the file and one read per far-apart member; never the whole wheel
    assert result.requests <= 4 and len(server.hits_for(path)) == result.requests
    assert result.bytes_read < 64 * 1024 < len(data)
    assert result.size == len(data) and result.members == 7


@pytest.mark.parametrize("deflate", [False, True], ids=["stored", "deflated"])
def test_with_an_aarch64_build_it_is_not_flagged(
    server: RangeServer, session: requests.Session, deflate: bool
) -> None:
    data = wheel(
        [
            Member("demo/bin/tool_linux64", X86, deflate=deflate, mode=0o755),
            Member("demo/bin/tool_linux_arm64", ARM, deflate=deflate, mode=0o755),
        ]
    )
    url, _ = serve(server, data)
    result = inspect_wheel(url, session)
    assert {h.path: h.head for h in result.heads} == {
        "demo/bin/tool_linux64": X86[:64],
        "demo/bin/tool_linux_arm64": ARM[:64],
    }
    assert verdict(result) is NativeVerdict.RUNS


def test_mach_o_and_pe_only_are_not_flagged(server: RangeServer, session: requests.Session) -> None:
    data = wheel(
        [
            Member("demo/driver_mac", fat_header(CPU_X86_64, CPU_ARM64) + filler(50_000)),
            Member("demo/driver_win64.exe", pe_header(PE_AMD64) + filler(50_000), deflate=True),
            Member("demo/driver_win32.exe", pe_header(PE_I386, e_lfanew=0x400) + filler(50_000)),
        ]
    )
    url, _ = serve(server, data)
    result = inspect_wheel(url, session, needs=header_bytes_needed)
    kinds = {h.path: classify(h.head) for h in result.heads}
    assert kinds["demo/driver_win64.exe"].format is BinaryFormat.PE
    assert kinds["demo/driver_win64.exe"].archs == (Arch.X86_64,)  # read past the first 64 bytes
    assert kinds["demo/driver_win32.exe"].archs == (Arch.I386,)  # its PE header at 1024
    assert kinds["demo/driver_mac"].archs == (Arch.X86_64, Arch.AARCH64)
    assert verdict(result) is NativeVerdict.NO_LINUX_NATIVES


def zip64_wheel(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A ZIP64 wheel as a >4 GiB one is written: zipfile with its limits lowered writes ZIP64
    extra fields (offsets 0xFFFFFFFF in the central directory), the ZIP64 end record and its
    locator; the classic end record then says 0xFFFF/0xFFFFFFFF as Info-ZIP writes it."""
    with monkeypatch.context() as m:
        m.setattr(zipfile, "ZIP64_LIMIT", 1000)
        m.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
        data = bytearray(
            wheel(
                [
                    Member("demo/tool_linux64", X86, deflate=True, mode=0o755),
                    Member("demo/libfast.so", elf_header(EM_X86_64, e_type=3) + filler(5000)),
                ]
            )
        )
    end = data.rindex(b"PK\x05\x06")
    assert data[end - 20 : end - 16] == b"PK\x06\x07"  # the ZIP64 locator
    struct.pack_into("<HHII", data, end + 8, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:  # still a valid zip for the stdlib
        assert zf.read("demo/tool_linux64") == X86
        zip64_extras = [i for i in zf.infolist() if i.extra[:2] == b"\x01\x00"]
        assert len(zip64_extras) >= 2
    return bytes(data)


def test_a_zip64_wheel(
    server: RangeServer, session: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = serve(server, zip64_wheel(monkeypatch))
    result = inspect_wheel(url, session)
    assert result.members == 6
    assert {h.path: h.head for h in result.heads}["demo/tool_linux64"] == X86[:64]
    check = judge_natives([(h.path, classify(h.head)) for h in result.heads])
    assert [m.path for m in check.foreign] == ["demo/tool_linux64", "demo/libfast.so"]


def test_nearby_members_share_one_request(server: RangeServer, session: requests.Session) -> None:
    small = [
        Member(f"demo/bin/t{i}", elf_header(EM_AARCH64) + filler(3000), mode=0o755)
        for i in range(3)
    ]
    data = wheel(
        [*small, Member("demo/blob.dat", filler(200_000))]
    )  # pushes the members far from the end
    url, path = serve(server, data)
    result = inspect_wheel(url, session)
    assert len(result.heads) == 3
    assert result.requests == 2  # the end of the file, then the three members together
    assert str(server.hits_for(path)[0].range).startswith("bytes=-")  # a suffix range first
    assert verdict(result) is NativeVerdict.RUNS


def test_budget_exceeded_is_incomplete_not_clean(
    server: RangeServer, session: requests.Session
) -> None:
    members = [Member(f"demo/bin/t{i}", X86, mode=0o755) for i in range(4)]
    url, _ = serve(server, wheel(members))
    full = inspect_wheel(url, session)
    assert full.complete
    budget = full.bytes_read - 100
    result = inspect_wheel(url, session, budget=budget)
    assert result.status is Status.BUDGET and not result.complete
    assert result.why.startswith(
        f"inspection incomplete: read {result.bytes_read} bytes of budget {budget}"
    )
    assert result.bytes_read <= budget
    assert len(result.heads) < 4  # the members read so far are kept, the verdict is not given


def test_a_central_directory_larger_than_the_budget(
    server: RangeServer, session: requests.Session
) -> None:
    data = wheel([Member(f"demo/module_{i:05d}.py", b"x = 1\n") for i in range(2000)])
    (cd_size,) = struct.unpack_from("<I", data, data.rindex(b"PK\x05\x06") + 12)
    url, _ = serve(server, data)
    result = inspect_wheel(url, session, budget=40_000)
    assert result.status is Status.BUDGET
    assert result.why == (
        f"inspection incomplete: read {result.bytes_read} bytes of budget 40000;"
        f" the central directory needs {cd_size} more"
    )
    assert result.bytes_read <= 40_000 < cd_size
    assert result.heads == ()


def finished(server: RangeServer, path: str) -> int:
    """The bytes the server wrote for ``path`` once its response is over (waits up to 30 s)."""
    deadline = time.monotonic() + 30
    while path not in server.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.finished[path]


@pytest.mark.parametrize("omit_length", [False, True], ids=["content-length", "close-delimited"])
def test_a_server_ignoring_range_is_not_read_whole(
    server: RangeServer, session: requests.Session, omit_length: bool
) -> None:
    size = 48_000_000  # far more than the socket buffers of both ends can hold
    big = wheel([Member("demo/tool_linux64", elf_header(EM_X86_64) + filler(size), mode=0o755)])
    url, path = serve(server, big)
    server.ignore_range, server.omit_length = True, omit_length
    try:
        result = inspect_wheel(url, session, budget=256 * 1024)
    finally:
        server.omit_length = False
    assert result.status is Status.NO_RANGE and not result.complete
    assert result.why == (
        f"inspection incomplete: the server ignored Range (HTTP 200); read {result.bytes_read}"
        f" bytes of budget {256 * 1024} and stopped"
    )
    assert result.bytes_read <= 256 * 1024 and result.requests == 1
    assert finished(server, path) < len(big)  # the client hung up: the body was never sent whole
    server.files.pop(path)


def test_a_small_wheel_from_a_server_ignoring_range_is_read_within_budget(
    server: RangeServer, session: requests.Session
) -> None:
    data = wheel([Member("demo/tool_linux64", elf_header(EM_X86_64) + filler(3000), mode=0o755)])
    url, _ = serve(server, data)
    server.ignore_range = True
    result = inspect_wheel(url, session)
    assert result.complete and result.requests == 1 and result.bytes_read == len(data)
    assert verdict(result) is NativeVerdict.FOREIGN_ONLY


def test_http_errors_and_non_zips_are_incomplete(
    server: RangeServer, session: requests.Session
) -> None:
    missing = inspect_wheel(server.url + "/files/missing.whl", session)
    assert missing.status is Status.HTTP_ERROR and "HTTP 404" in missing.why
    url, _ = serve(server, b"<html>not a wheel</html>" * 100)
    assert inspect_wheel(url, session).status is Status.NOT_A_ZIP
    refused = inspect_wheel("http://user:secret@127.0.0.1:9/x.whl?token=t0k", session, timeout=2)
    assert refused.status is Status.HTTP_ERROR
    assert refused.why == "inspection failed: could not read from 127.0.0.1 (ConnectionError)"
    assert inspect_wheel(serve(server, b"PK\x05\x06")[0], session).status is Status.NOT_A_ZIP


def test_a_file_host_that_does_not_answer_in_time(session: requests.Session) -> None:
    silent = socket.socket()  # accepts the connection (backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        port = silent.getsockname()[1]
        result = inspect_wheel(f"http://127.0.0.1:{port}/x.whl", session, timeout=0.5)
    finally:
        silent.close()
    assert result.status is Status.HTTP_ERROR and not result.complete
    assert result.why == "inspection failed: 127.0.0.1 did not answer within 0.5 s"


def test_unsupported_compression_is_incomplete(
    server: RangeServer, session: requests.Session
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("demo/tool_linux64", X86)
    url, _ = serve(server, buf.getvalue())
    result = inspect_wheel(url, session)
    assert result.status is Status.UNSUPPORTED
    assert result.why == "inspection incomplete: demo/tool_linux64 uses zip compression method 12"


def test_round_trip_for_a_cache(server: RangeServer, session: requests.Session) -> None:
    url, _ = serve(server, wheel([Member("demo/tool_linux64", X86, deflate=True, mode=0o755)]))
    result = inspect_wheel(url, session)
    assert WheelInspection.from_dict(result.to_dict()) == result


@pytest.mark.parametrize(
    ("path", "mode", "expected"),
    [
        ("chromedriver_py/chromedriver_linux64", None, True),
        ("pkg/_speedups.cpython-311-x86_64-linux-gnu.so", None, True),
        ("pkg/libs/libgfortran.so.5.0.0", None, True),
        ("pkg/lib.dylib", None, True),
        ("pkg/_x.pyd", None, True),
        ("pkg/driver.exe", None, True),
        ("pkg/helper.dll", None, True),
        ("pkg/firmware.bin", None, True),
        ("pkg-1.0.data/scripts/tool", 0o755, True),
        ("pkg/run.x", 0o755, True),
        ("pkg/run.x", 0o644, False),
        ("pkg/__init__.py", 0o755, False),
        ("pkg/script.sh", 0o755, False),
        ("pkg/py.typed", None, False),
        ("pkg/__init__.pyi", None, False),
        ("pkg/data.json", None, False),
        ("pkg/NOTES.txt", None, False),
        ("pkg/LICENSE", None, False),
        ("pkg/.gitignore", None, False),
        ("pkg/", None, False),
        ("pkg-1.0.dist-info/RECORD", None, False),
        ("pkg-1.0.dist-info/licenses/COPYING", None, False),
        ("pkg/_vendor/dep-2.0.dist-info/INSTALLER", None, False),
        ("pkg/_vendor/old.egg-info/PKG-INFO", None, False),
    ],
)
def test_which_members_can_be_native(path: str, mode: int | None, expected: bool) -> None:
    assert may_be_native(path, mode) is expected


def test_requests_can_run_in_parallel_threads(
    server: RangeServer, session: requests.Session
) -> None:
    url, _ = serve(server, wheel([Member("demo/tool_linux64", X86, mode=0o755)]))
    results: list[WheelInspection] = []
    threads = [
        threading.Thread(target=lambda: results.append(inspect_wheel(url, session)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.complete for r in results] == [True] * 4


def test_a_deflated_member_whose_first_read_inflates_short_is_read_further(
    server: RangeServer, session: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graviton.index.remote_zip as remote_zip

    monkeypatch.setattr(remote_zip, "PREFIX", 0)  # 64 compressed bytes never inflate to 64
    data = wheel([Member("demo/tool_linux64", X86, deflate=True, mode=0o755)])
    url, _ = serve(server, data)
    result = inspect_wheel(url, session, tail_bytes=1024)
    assert result.complete, result.why
    assert result.heads[0].head == X86[:64]
    assert result.requests >= 3  # the end, the first prefix, then the rest of the way


def test_the_members_looked_into_are_exactly_those_may_be_native_keeps(
    server: RangeServer, session: requests.Session
) -> None:
    """The directory is skimmed on its bytes before names are decoded: the candidates must be
    what :func:`may_be_native` says of every decoded name (UTF-8, cp437, odd dots, modes)."""
    names = [
        ("pkg/__init__.py", 0o644),
        ("pkg/.py", 0o644),  # a name, not a suffix
        (".py", 0o644),
        ("pkg/x.py", 0o755),
        ("pkg/tool", 0o755),
        ("pkg/data.json", 0o755),
        ("pkg/run.x", 0o755),
        ("pkg/walk.x", 0o644),
        ("pkg/lib.so.6", 0o644),
        ("pkg/LICENSE", 0o644),
        ("pkg/\u00fcber", 0o644),  # UTF-8 (flag 0x800)
        ("pkg/\u00fcber.py", 0o644),
        ("pkg/Qtool", 0o644),  # Q becomes the cp437 byte 0x81 below (no UTF-8 flag)
        ("pkg/Q.py", 0o644),
        ("pkg/Q/.py", 0o644),
        ("pkg-1.0.dist-info/RECORD", 0o644),
        ("pkg/_vendor/x-1.dist-info/tool", 0o755),
        ("pkg/sub/", 0o755),
        ("pkg/a.b.c.txt", 0o755),
        ("pkg/.hidden.so", 0o644),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, mode in names:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, b"\x7fELF" + bytes(60) if not name.endswith("/") else b"")
    data = buf.getvalue().replace(b"pkg/Q", b"pkg/\x81")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    assert any(i.filename.startswith("pkg/\u00fc") and not i.flag_bits & 0x800 for i in infos)
    expected = [
        i.filename
        for i in infos
        if may_be_native(i.filename, ((i.external_attr >> 16) & 0xFFFF) or None)
    ]
    assert "pkg/tool" in expected and "pkg/x.py" not in expected
    url, _ = serve(server, data)
    result = inspect_wheel(url, session, needs=header_bytes_needed)
    assert result.complete, result.why
    assert result.members == len(names)
    assert list(result.candidates) == expected


@pytest.mark.parametrize("damage", ["signature", "short"])
def test_a_damaged_central_directory_proves_nothing(
    server: RangeServer, session: requests.Session, damage: str
) -> None:
    members = [Member(f"pkg/m{i}.py", b"x = 1\n") for i in range(3)]
    data = bytearray(wheel([*members, Member("pkg/tool", X86, mode=0o755)]))
    eocd = data.rfind(b"PK\x05\x06")
    count, _size, cd_offset = struct.unpack_from("<HII", data, eocd + 10)
    if damage == "signature":  # the third entry's signature
        third = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02", cd_offset + 4) + 4)
        data[third : third + 4] = b"PK\x09\x09"
    else:  # one more entry than the directory holds
        struct.pack_into("<HH", data, eocd + 8, count + 1, count + 1)
    result = inspect_wheel(serve(server, bytes(data))[0], session)
    assert result.status is Status.NOT_A_ZIP
    assert "a bad central directory entry" in result.why
    assert not result.complete
