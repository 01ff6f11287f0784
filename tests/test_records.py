"""translator.records.Record: the dataclass stand-in of the model and the plans."""

from __future__ import annotations

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
