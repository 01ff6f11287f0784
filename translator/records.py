"""Record: a class of named fields with defaults, for the model and the plans built from it.

Like a dataclass without the generated code: a dataclass compiles its __init__ (and __repr__)
when its module is imported, about a millisecond per class, which every run of the command line
pays (measured: `translate` on the official examples costs about 15 ms of CPU more with
dataclasses, to the edge of the benchmark's 1.3x target). A Record's fields are its
annotations, in order (a subclass's after its base's); a field whose default is `[]` or `{}`
gets a new empty list or dict per instance, as `field(default_factory=list)` would. Records
compare by identity, like `dataclass(eq=False)`. `dataclass_transform` (PEP 681) tells type
checkers all this, so they check the constructors' arguments as they would a dataclass's.
"""

from __future__ import annotations

import sys
from typing import ClassVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: only type checkers need it
    def dataclass_transform(**_kwargs):
        return lambda cls: cls


@dataclass_transform(eq_default=False)
class Record:
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, object]] = {}
    _required: ClassVar[tuple[str, ...]] = ()
    _containers: ClassVar[tuple[tuple[str, type], ...]] = ()  # fields whose default is `[]` or `{}`
    _known: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        fields = list(cls._fields)
        defaults = dict(cls._defaults)
        for name in cls.__dict__.get("__annotations__", {}):
            if name not in fields:
                fields.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
        cls._fields, cls._defaults, cls._known = tuple(fields), defaults, frozenset(fields)
        cls._required = tuple(name for name in fields if name not in defaults)
        cls._containers = tuple((name, type(defaults[name])) for name in fields
                                if type(defaults.get(name)) in (list, dict))

    def __init__(self, *args, **kwargs) -> None:
        # Other defaults are read from the class: only given values and new containers are stored.
        if args:
            if len(args) > len(self._fields):
                raise TypeError(f"{type(self).__name__}() takes {len(self._fields)} arguments, got {len(args)}")
            for name, value in zip(self._fields, args):
                if name in kwargs:
                    raise TypeError(f"{type(self).__name__}() got '{name}' twice")
                kwargs[name] = value
        if not self._known.issuperset(kwargs):
            raise TypeError(f"{type(self).__name__}() has no field '{min(set(kwargs) - self._known)}'")
        values = self.__dict__
        values.update(kwargs)
        for name in self._required:
            if name not in values:
                raise TypeError(f"{type(self).__name__}() is missing '{name}'")
        for name, kind in self._containers:
            if name not in values:
                values[name] = kind()  # `= []` / `= {}`: a new one for every record

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"
