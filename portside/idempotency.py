"""Do an event's effect once, however often it is delivered (docs/architecture.md, "Delivery").

    @idempotent(seen)                       # keyed by event id
    def store(message: Message) -> None: ...

    @idempotent(seen, key=lambda m: m.json()["email"], expires_after=3600)

A record is created with the table's conditional create before the handler runs
(``in_progress``, with a lease as long as the function's timeout), and marked
``completed`` after. A duplicate that finds it completed returns the stored result
and does nothing; one that finds it in progress raises ``InProgress`` so the source
redelivers it later; a failed run deletes the record so the retry can run.
Records expire (the table's TTL field) so the table does not grow for ever.

An in-progress record names its ``owner``, the target instance running it (``target.instance``).
A target that can tell whether an instance still lives (``target.instance_alive``: the local
runtime, after a crash and restart) lets a record of a dead owner be taken over at once instead
of after its lease; elsewhere the lease is what frees it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from portside.declarations import Table
from portside.errors import DeclarationError, InProgress
from portside.events import HttpResponse
from portside.runtime import current, target_time
from portside.telemetry import Logger

TYPE_CHECKING = False  # typing, logging and base64 stay out of a handler module's import (bench/startup.py)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

log = Logger("portside.idempotency")


def idempotent(table: Table, *, key: Callable[[Any], Any] | None = None,
               expires_after: float = 24 * 3600, lease: float | None = None) -> Callable[[F], F]:
    """Decorate a handler so duplicates of an event (or of ``key(event)``) apply once.

    The function must declare ``table.writer`` and ``table.reader`` in its ``uses``.
    """
    if not isinstance(table, Table):
        raise DeclarationError(f"idempotent() needs a Table, got {table!r}")
    if table.sort_key is not None:
        raise DeclarationError(f"idempotency table {table.name!r} must have no sort key")
    if expires_after <= 0:
        raise DeclarationError(f"expires_after must be > 0 seconds, got {expires_after}")
    expiry_field = table.ttl or "expires_at"

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        def wrapper(event: Any) -> Any:
            inv = current()
            scope = inv.function.name if inv else handler.__qualname__
            ident = f"{scope}#{key(event) if key else event.id}"
            now = target_time()
            hold = lease if lease is not None else (inv.function.timeout + 5 if inv else 300)
            owner = getattr(inv.target, "instance", None) if inv else None
            record = {table.key: ident, "status": "in_progress", expiry_field: int(now + hold)}
            if owner:
                record["owner"] = owner
            if not table.put_if_absent(record):
                existing = table.get(ident)
                if existing is not None and existing.get(expiry_field, 0) > now:
                    if existing.get("status") == "completed":
                        log.info("duplicate %s skipped: already done", ident, extra={"idempotency_key": ident})
                        return _load(existing.get("result"))
                    if not _owner_gone(inv, existing.get("owner")):
                        raise InProgress(f"{ident} is being processed by another delivery; retry later")
                    log.warning("%s was in progress in %s, which is gone: running it again", ident,
                                existing.get("owner"), extra={"idempotency_key": ident})
                # expired, deleted meanwhile or its owner gone: take it over, racing fairly through the condition
                table.delete(ident)
                if not table.put_if_absent(record):
                    raise InProgress(f"{ident} was taken by a concurrent delivery; retry later")
            try:
                result = handler(event)
            except BaseException:
                table.delete(ident)
                raise
            table.put({table.key: ident, "status": "completed", "result": _dump(result),
                       expiry_field: int(target_time() + expires_after)})
            return result

        # checked when the handler is loaded (portside.runtime.load_handler): a function missing
        # either access would pass every first delivery and fail on the first duplicate
        wrapper.__portside_needs__ = (*getattr(handler, "__portside_needs__", ()),  # type: ignore[attr-defined]
                                      (table, "read", f"@idempotent({table.name})"),
                                      (table, "write", f"@idempotent({table.name})"))
        return wrapper  # type: ignore[return-value]

    return decorate


def _owner_gone(inv: Any, owner: Any) -> bool:
    """True only when the target knows ``owner`` no longer runs (so its run will never finish)."""
    alive = getattr(inv.target, "instance_alive", None) if inv else None
    return bool(owner) and alive is not None and not alive(owner)


# Firestore reserves field names of the form __x__ ("field name '__http__' is reserved"), so a
# stored HTTP answer is marked with a plain name; records written with the old mark still load.
HTTP_MARK, _OLD_HTTP_MARK = "portside-http-response", "__http__"


def _dump(result: Any) -> Any:
    if isinstance(result, HttpResponse):
        import base64

        return {HTTP_MARK: [result.status, dict(result.headers), base64.b64encode(result.body).decode()]}
    if result is None or isinstance(result, (str, int, float, bool, list, dict)):
        return result
    return None


def _load(stored: Any) -> Any:
    mark = next((m for m in (HTTP_MARK, _OLD_HTTP_MARK) if isinstance(stored, dict) and m in stored), None)
    if mark is not None:
        import base64

        status, headers, body = stored[mark]
        return HttpResponse(int(status), headers, base64.b64decode(body))
    return stored
