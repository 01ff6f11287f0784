"""The loader: positions, scalars as written, and hostile YAML turned into diagnostics."""

from __future__ import annotations

import time

import pytest
import yaml

from translator import yaml_loader
from translator.diagnostics import InputError, Loc
from translator.yaml_loader import LMap, LSeq, MAX_DEPTH, decode, load


def error_of(text: str) -> object:
    with pytest.raises(InputError) as info:
        load(text, "f.yml")
    return info.value.diagnostic


def test_values_keep_their_positions():
    doc = load("a:\n  b: [x, 'y']\n", "f.yml")
    assert isinstance(doc, LMap) and isinstance(doc["a"]["b"], LSeq)
    assert doc.key_loc["a"] == Loc("f.yml", 1, 1)
    assert doc["a"].val_loc["b"] == Loc("f.yml", 2, 6)
    assert doc["a"]["b"].item_loc == [Loc("f.yml", 2, 7), Loc("f.yml", 2, 10)]


def test_scalars_keep_the_text_codeship_read():
    doc = load("v: 1.10\nb: yes\no: 0o12\nn: ~\n", "f.yml")
    assert (doc["v"], doc["b"]) == (1.1, True)
    assert [doc.text_of(k) for k in "vbo"] == ["1.10", "yes", "0o12"]
    assert doc["n"] is None


def test_merge_keys_and_anchors():
    doc = load("base: &b {image: x, command: y}\nweb:\n  <<: *b\n  image: z\n", "f.yml")
    assert dict(doc["web"]) == {"image": "z", "command": "y"}


def test_json_is_read_too():
    assert load('{"a": [1, {"b": null}]}', "f.json") == {"a": [1, {"b": None}]}


def test_empty_document_is_none():
    assert load("", "f.yml") is None
    assert load("# only a comment\n", "f.yml") is None


def test_duplicate_keys_are_reported_not_silently_merged():
    d = error_of("a: 1\nb: 2\na: 3\n")
    assert (d.code, d.loc.line, d.loc.col) == ("C2C006", 3, 1)
    assert "line 1" in d.message


def test_more_than_one_document():
    d = error_of("a: 1\n---\nb: 2\n")
    assert (d.code, d.loc.line) == ("C2C003", 2)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_a_diagnostic_not_a_crash(depth):
    d = error_of("[" * depth + "]" * depth)
    assert d.code == "C2C004"
    assert d.loc.col == MAX_DEPTH + 1


class _LibyamlWithNestingLimit:
    """A parser that stops at a nesting limit the way libyaml 0.2.5 does (PyYAML >= 6.0.4's
    wheels), whatever PyYAML this suite runs on: in flow style it scans ahead to the limit and
    fails before yielding a single event."""

    LIMIT = 1000
    real = yaml_loader._Parser

    def __init__(self, text):
        self.text, self.parser = text, None

    def get_event(self):
        if self.parser is None:
            depth = 0
            for index, char in enumerate(self.text):
                depth += char in "[{"
                if depth > self.LIMIT:
                    mark = yaml.Mark("<unicode string>", index, 0, index, None, None)
                    raise yaml.scanner.ScannerError("while increasing flow level", mark,
                                                    "exceeded maximum nesting depth", mark)
            self.parser = self.real(self.text)  # within the limit: parse for real
        return self.parser.get_event()


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_the_parsers_own_nesting_limit_is_c2c004_where_ours_is_passed(monkeypatch, opening):
    closing = "]" if opening == "[" else "}"
    text = opening * 5000 + "x" + closing * 5000
    monkeypatch.setattr(yaml_loader, "_Parser", _LibyamlWithNestingLimit)
    d = error_of(text)
    assert (d.code, d.loc.line, d.loc.col) == ("C2C004", 1, MAX_DEPTH * len(opening) + 1)


def test_alias_bomb_is_rejected_quickly():
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    started = time.perf_counter()
    d = error_of("\n".join(levels) + "\n")
    assert d.code == "C2C005"
    assert time.perf_counter() - started < 5  # a guard against expansion, not a speed target


def test_large_documents_are_not_mistaken_for_alias_bombs():
    steps = "".join(f"- name: s{i}\n  service: app\n  command: echo {i}\n" for i in range(20_000))
    assert len(load(steps, "f.yml")) == 20_000


def test_unknown_alias():
    assert error_of("a: *nope\n").code == "C2C002"


@pytest.mark.parametrize("text, kind", [("a: !!int abc\n", "int"), ("a:\n  - !!timestamp nope\n", "timestamp"),
                                        ("a: !!bool maybe\n", "bool"), ("a: !!float x\n", "float")])
def test_a_value_its_tag_cannot_read_is_located(text, kind):
    d = error_of(text)
    assert d.code == "C2C002" and f"not a valid {kind}" in d.message and d.loc.line == text.count("\n")


def test_repeated_plain_scalars_resolve_the_same_every_time():
    doc = load("a: [1, '1', 1, yes, 'yes', yes, 1.10, ~]\nb: [1, yes]\n", "f.yml")
    assert doc["a"] == [1, "1", 1, True, "yes", True, 1.1, None] and doc["b"] == [1, True]
    assert doc["a"].text_of(6) == "1.10"


def test_tabs_get_a_specific_hint():
    d = error_of("a:\n\tb: 1\n")
    assert d.code == "C2C002" and "tabs" in d.hint


def test_bom_and_crlf_work():
    text = decode(b"\xef\xbb\xbfa: 1\r\nb: [x]\r\n", "f.yml")
    doc = load(text, "f.yml")
    assert doc == {"a": 1, "b": ["x"]}
    assert doc["b"].item_loc[0].line == 2


def test_non_utf8_names_the_byte_and_position():
    with pytest.raises(InputError) as info:
        decode(b"a: 1\nb: caf\xe9\n", "f.yml")
    d = info.value.diagnostic
    assert (d.code, d.loc.line, d.loc.col) == ("C2C001", 2, 7)
    assert "0xe9" in d.message


def test_nul_byte():
    with pytest.raises(InputError) as info:
        decode(b"a: 1\nb: x\x00y\n", "f.yml")
    d = info.value.diagnostic
    assert (d.code, d.loc.line, d.loc.col) == ("C2C001", 2, 5)
