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


class PermissionDenied(PermanentError):
    """A handler used a resource, or an access, that it did not declare in ``uses``."""


class NotFound(PortsideError, KeyError):
    """A bucket object or table item that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want a sentence
        return str(self.args[0]) if self.args else "not found"


class InProgress(PortsideError):
    """Another delivery of the same idempotency key is running: retry later."""


class PayloadTooLarge(PermanentError):
    """A message above the smallest limit every cloud accepts (docs/architecture.md, "Delivery")."""


class NoInvocation(PortsideError, RuntimeError):
    """A resource handle was used outside a handler invocation."""


class HttpError(PermanentError):
    """Raise in an HTTP handler to answer ``status`` with ``message`` (e.g. 422)."""

    def __init__(self, status: int, message: str) -> None:
        if not 400 <= status <= 499:
            raise ValueError(f"HttpError is for 4xx answers, got {status}")
        super().__init__(message)
        self.status = status
