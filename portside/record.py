"""Records: classes with a fixed list of named fields, without the ``dataclasses`` machinery.

A cold start pays for every ``@dataclass`` (it compiles each class's methods, 1-2 ms a class, and
imports inspect, ast, dis and tokenize). Events and declarations are a few fixed classes, so each
writes its own ``__init__`` (where its checks are) and inherits the rest from :class:`Record`,
which reads the fields from the ``__slots__`` of the class and its bases, bases first:
equality and hashing over the fields in that order (only between instances of the same class),
a ``Name(field=value, ...)`` repr, copying and pickling, ``__match_args__``, and :func:`replace`.
Slots whose name starts with ``_`` are not fields. Like the frozen dataclasses they replace,
records refuse assignment with ``dataclasses.FrozenInstanceError``; a class that is meant to
change sets ``mutable = True``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs a cold start milliseconds; only type checkers need these names
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R", bound="Record")

setfield = object.__setattr__  # how a record's own __init__ sets its fields

__all__ = ["Record", "builder", "fields", "replace", "setfield"]


class Record:
    """Value semantics from ``__slots__``; subclasses write ``__init__``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    mutable = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = tuple(name for klass in reversed(cls.__mro__) for name in vars(klass).get("__slots__", ())
                            if not name.startswith("_"))
        cls.__match_args__ = cls._fields
        if cls.mutable:
            cls.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
            cls.__delattr__ = object.__delattr__  # type: ignore[method-assign,assignment]
            if "__hash__" not in vars(cls):
                cls.__hash__ = None  # type: ignore[assignment]  # as a dataclass with eq and not frozen

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError  # only on this mistake's path

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> dict[str, Any]:  # copy and pickle (a frozen record cannot be set attribute by attribute)
        return {name: getattr(self, name) for klass in type(self).__mro__
                for name in vars(klass).get("__slots__", ()) if name not in ("__dict__", "__weakref__")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setfield(self, name, value)


def replace(record: R, /, **changes: Any) -> R:
    """A copy of ``record`` with ``changes`` (as ``dataclasses.replace``): its ``__init__`` runs, so
    the fields are checked again; an unknown field name is a TypeError."""
    unknown = sorted(set(changes) - set(record._fields))
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {', '.join(unknown)}")
    return type(record)(**{name: changes.get(name, getattr(record, name)) for name in record._fields})


def fields(record: Record | type[Record]) -> tuple[str, ...]:
    """The names of a record's fields, in order."""
    return record._fields


def builder(cls: type[R]) -> type[R]:
    """A mutable twin of the frozen record class ``cls`` (same slots, no ``__init__``), for hot paths
    that build many records of values already checked: ``r = Twin(); r.id = ...; r.__class__ = cls``
    sets each field as a plain attribute, where a frozen record's ``object.__setattr__`` costs about
    five times as much, and the result is a ``cls`` like any other (Python allows the switch between
    classes of one layout)."""
    return type(cls.__name__, (cls,), {"__slots__": (), "mutable": True, "__init__": object.__init__,
                                       "__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.builder"})

