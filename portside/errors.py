"""Errors a handler raises or meets, and how delivery treats them (docs/architecture.md, "Delivery")."""

from __future__ import annotations


class PortsideError(Exception):
    """Base of every error portside raises itself."""


class PermanentError(PortsideError):
    """Retrying cannot help: the event goes straight to the dead letter.

    Raise it for input that will never succeed (a file that is not an image, a
    message that fails validation), so a poison message does not burn its retries.
    """


class UnsupportedEvent(PermanentError):
    """A raw payload no adapter recognises, or one that is malformed.

    The message names what was received (top-level keys, event source), never a
    bare ``KeyError`` from deep inside an adapter.
    """


class DeclarationError(PortsideError, ValueError):
    """The app declaration is wrong: raised where the declaration is made."""


class CloudLimitError(DeclarationError):
    """The app declares something a cloud it targets cannot do (docs/architecture.md, "Capabilities")."""


class PermissionDenied(PermanentError):
    """A handler used a resource, or an access, that it did not declare in ``uses``."""


class NotFound(PortsideError, KeyError):
    """A bucket object or table item that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want a sentence
        return str(self.args[0]) if self.args else "not found"


class InProgress(PortsideError):
    """Another delivery of the same idempotency key is running: retry later."""


class InvalidRequest(PermanentError, ValueError, TypeError):
    """A port call a targeted cloud would refuse: a bad object key or table key, too many message
    attributes, a delay a FIFO queue cannot take (docs/architecture.md, "Capabilities").

    Every target raises it from the same check with the same message, before any cloud is called;
    retrying sends the same request, so it is permanent. It is a ValueError and a TypeError, as
    the clouds' own libraries raise either for a bad argument.
    """


class PayloadTooLarge(InvalidRequest):
    """A message or item above the limit of a cloud the app targets (docs/architecture.md, "Capabilities")."""


class NoInvocation(PortsideError, RuntimeError):
    """A resource handle was used outside a handler invocation."""


class HttpError(PermanentError):
    """Raise in an HTTP handler to answer ``status`` with ``message`` (e.g. 422)."""

    def __init__(self, status: int, message: str) -> None:
        if not 400 <= status <= 499:
            raise ValueError(f"HttpError is for 4xx answers, got {status}")
        super().__init__(message)
        self.status = status


SLIPS = (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError, OSError, RecursionError)
"""What a wrong-typed or out-of-range field raises deep inside an adapter's mapping: a list where the
cloud sends a string (TypeError), a date past year 9999 (OverflowError, OSError), nesting deeper
than Python can walk (RecursionError). UnicodeError is a ValueError."""


def malformed(what: str, raw: object, why: str) -> UnsupportedEvent:
    """The error for a payload that is not what ``what`` should be: the reason and the keys seen."""
    keys = sorted(map(str, raw))[:12] if isinstance(raw, dict) else type(raw).__name__
    return UnsupportedEvent(f"malformed {what}: {why}; keys were {keys}")


def guarded(what: str):  # noqa: ANN201 - a decorator: (fn) -> fn
    """Decorate an adapter's mapping of one raw payload (its first argument): any slip on a
    malformed field becomes an ``UnsupportedEvent`` naming ``what``, the error and the keys seen,
    never a bare KeyError or RecursionError from deep inside. Free when nothing goes wrong."""

    def wrap(fn):  # noqa: ANN001, ANN202
        def mapped(raw, *args):  # noqa: ANN001, ANN002, ANN202
            try:
                return fn(raw, *args)
            except UnsupportedEvent:
                raise
            except SLIPS as e:
                raise malformed(what, raw, f"{type(e).__name__}: {e}") from None

        mapped.__name__, mapped.__qualname__, mapped.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        mapped.__wrapped__ = fn
        return mapped

    return wrap
