import pytest

from translator.commands import CommandSyntaxError, split_command


@pytest.mark.parametrize("command, argv", [
    ("echo a && echo b", ["echo", "a", "&&", "echo", "b"]),
    ("echo $HOME", ["echo", "$HOME"]),
    ("sh -c 'echo $HOME && ls'", ["sh", "-c", "echo $HOME && ls"]),
    ('echo "two words" three', ["echo", "two words", "three"]),
    (r'echo "a \"quoted\" word"', ["echo", 'a "quoted" word']),
    (r"echo a\ b", ["echo", "a b"]),
    ("echo 'it''s'", ["echo", "its"]),
    ("  spaced   out  ", ["spaced", "out"]),
    ("echo # not a comment", ["echo", "#", "not", "a", "comment"]),
    ("cat file | grep x > out", ["cat", "file", "|", "grep", "x", ">", "out"]),
    ("echo ''", ["echo", ""]),
    ("-o pid", ["-o", "pid"]),
    ("multi\nline", ["multi", "line"]),
    ("echo héllo ✔", ["echo", "héllo", "✔"]),
])
def test_split_like_jet(command, argv):
    assert split_command(command) == argv


@pytest.mark.parametrize("command, reason", [
    ("echo 'unclosed", "quote"),
    ('echo "unclosed', "quote"),
    ("echo trailing\\", "backslash"),
])
def test_unsplittable_commands_say_why(command, reason):
    with pytest.raises(CommandSyntaxError, match=reason):
        split_command(command)
