"""Line numbers of TOML and JSON keys, which tomllib and json do not give."""

from __future__ import annotations

import json
import tomllib

from graviton.audit.sources._locate import json_lines, toml_lines

TOML = '''\
# comment [[package]]
top = """
[[package]]
name = "not a table"
"""
literal = \'\'\'
[x]\'\'\'

[[package]]
name = "a"   # trailing [comment]
deps = [
  { name = "b", marker = "os_name == 'nt'" },
  "c", 'd',
]
when = 1979-05-27 07:32:00
ratio = 1.5e3

[package.source]
"type" = "legacy"

[[package]]
site."google.com" = true
name = "e"

[[package.wheels]]
url = "u"

[[package]]
name = "f"

[[package.wheels]]
url = "v"

[[package.wheels]]
url = "w"
'''


def test_toml_lines_of_keys_tables_and_array_items() -> None:
    data = tomllib.loads(TOML)
    lines = toml_lines(TOML)
    assert [p["name"] for p in data["package"]] == ["a", "e", "f"]
    assert lines.find(("top",)) == 2
    assert lines.find(("package", 0)) == 9
    assert lines.find(("package", 0, "name")) == 10
    assert lines.find(("package", 0, "deps", 0, "marker")) == 12
    assert lines.find(("package", 0, "deps", 2)) == 13
    assert lines.find(("package", 0, "when")) == 15
    assert lines.find(("package", 0, "ratio")) == 16
    assert lines.find(("package", 0, "source", "type")) == 19
    assert lines.find(("package", 1, "site", "google.com")) == 22
    assert lines.find(("package", 1, "name")) == 23
    assert lines.find(("package", 1, "wheels", 0, "url")) == 26
    assert lines.find(("package", 2, "name")) == 29
    assert lines.find(("package", 2, "wheels", 1, "url")) == 35
    assert lines.find(("package", 3)) is None


def test_json_lines_of_object_keys() -> None:
    text = json.dumps(
        {"_meta": {"sources": [{"name": "pypi"}]}, "default": {'we"ird': {}, "b": {"v": 1}}},
        indent=4,
    )
    lines = json_lines(text)

    def row(*path: str | int) -> str:
        number = lines.find(path)
        assert number is not None
        return text.splitlines()[number - 1].strip()

    assert row("_meta", "sources", 0, "name") == '"name": "pypi"'
    assert row("default", 'we"ird') == '"we\\"ird": {},'
    assert row("default", "b", "v") == '"v": 1'
    assert json_lines('{"a": [1, 2, {"b": {}}], "c": 3}').find(("a", 2, "b")) == 1


def test_toml_lines_within_a_depth_skip_what_entries_hold() -> None:
    full, entries = toml_lines(TOML), toml_lines(TOML, depth=3)
    assert set(entries.by_path) < set(full.by_path)
    assert all(full.by_path[path] == line for path, line in entries.by_path.items())
    assert ("package", 0, "deps", 0) not in entries.by_path
    assert entries.find(("package", 0, "deps", 0, "marker")) == 11  # the nearest known key
    assert entries.find(("package", 2, "wheels", 1, "url")) == 35  # tables are always read
    assert entries.find(("elsewhere",)) is None
