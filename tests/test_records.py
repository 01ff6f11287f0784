"""translator.records.Record: the dataclass stand-in of the model and the plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from translator.records import Record


class Base(Record):
    name: str
    tags: list[str] = []
    kind: str = "run"


class Child(Base):
    extra: dict[str, int] = {}


def test_fields_in_order_with_defaults_and_fresh_containers():
    a, b = Child("a"), Child(name="b", kind="push")
    assert Child._fields == ("name", "tags", "kind", "extra")
    assert (a.name, a.tags, a.kind, a.extra) == ("a", [], "run", {})
    assert (b.name, b.kind) == ("b", "push")
    a.tags.append("x")
    a.extra["n"] = 1
    assert b.tags == [] and b.extra == {} and Child("c").tags == []


@pytest.mark.parametrize("make, message", [
    (lambda: Child(), "missing 'name'"),
    (lambda: Child("a", name="b"), "'name' twice"),
    (lambda: Child("a", colour="red"), "no field 'colour'"),
    (lambda: Child("a", [], "run", {}, 5), "takes 4 arguments"),
])
def test_wrong_arguments_are_type_errors(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_repr_names_every_field():
    assert repr(Base("a", ["t"])) == "Base(name='a', tags=['t'], kind='run')"


PROBE = '''\
from translator.diagnostics import Loc
from translator.model import RunStep, Service, Volume

loc = Loc("f", 1, 1)
Service("app", loc, image="busybox")
RunStep(name="s", loc=loc, service="app", command=["true"])
Service("app")
Volume(loc, container=3)
RunStep(name="s", loc=loc, colour="red")
'''


def test_type_checkers_see_the_constructors(tmp_path, monkeypatch):
    api = pytest.importorskip("mypy.api")
    monkeypatch.setenv("MYPYPATH", str(Path(__file__).resolve().parents[1]))
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    out, _, _ = api.run(["--no-incremental", "--follow-imports=silent", "--python-version", "3.11",
                         "--cache-dir", str(tmp_path / "cache"), str(probe)])
    errors = [line.split(": error: ")[1] for line in out.splitlines() if ": error: " in line]
    assert errors == ['Missing positional argument "loc" in call to "Service"  [call-arg]',
                      'Argument "container" to "Volume" has incompatible type "int"; expected "str"  [arg-type]',
                      'Unexpected keyword argument "colour" for "RunStep"  [call-arg]'], out


def test_the_package_type_checks(tmp_path):
    """The model's records, the plans and every module check clean, so a type error a change
    introduces shows up here rather than in a user's run."""
    api = pytest.importorskip("mypy.api")
    root = Path(__file__).resolve().parents[1]
    out, err, status = api.run(["--python-version", "3.11", "--cache-dir", str(tmp_path / "cache"),
                                str(root / "translator")])
    assert status == 0, out + err
