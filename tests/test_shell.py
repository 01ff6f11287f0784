"""One place for shell quoting: every output that writes bash quotes with translator.shell."""

from __future__ import annotations

import subprocess

import pytest

from translator.shell import array, sq, word

VALUES = ["plain", "it's", "a\nb", "tab\there", "x\x01y'\\z", "é\r", "$(touch x) `y` ${z}", "\x7f", "",
          "-n", "a b", "*", "~user", "x=1", "#c"]


@pytest.mark.parametrize("quote", [sq, word])
def test_quoted_values_round_trip_through_bash(quote):
    script = "; ".join(f"printf '%s\\0' {quote(v)}" for v in VALUES)
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [v.encode() for v in VALUES]


def test_word_leaves_what_bash_reads_as_is_bare_and_quotes_the_rest():
    assert [word(v) for v in ("app", "v1.2.3", "a/b:c,d@e%f+g=h-", "x_1")] == \
        ["app", "v1.2.3", "a/b:c,d@e%f+g=h-", "x_1"]
    assert [word(v) for v in ("", "a b", "it's", "~", "*", "$x", "#c", "é")] == \
        ["''", "'a b'", "'it'\\''s'", "'~'", "'*'", "'$x'", "'#c'", "'é'"]


def test_control_characters_are_written_printable():
    assert sq("a\nb\x01") == "$'a\\nb\\x01'"
    assert word("tab\there") == "$'tab\\there'"


def test_the_folder_the_cli_names_is_quoted_like_the_script_quotes(tmp_path):
    from helpers import run_cli, write_project

    project = write_project(tmp_path / "project", "app:\n  image: busybox\n  ports: ['8080:80']\n")
    result = run_cli("translate", str(project), "-o", str(tmp_path / "it's out"), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "`docker compose up` in 'it'\\''s out' starts app" in result.stderr
    assert "1. `'./it'\\''s out/codeship-steps.sh' --list`" in result.stderr


def test_array_quotes_every_element():
    script = f"a=({array(VALUES)}); printf '%s\\0' \"${{a[@]}}\""
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out.split(b"\0")[:-1] == [v.encode() for v in VALUES]
