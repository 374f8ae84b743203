"""Normalized events <-> JSON text, so a pending delivery or a dead letter survives a restart intact."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from portside.errors import UnsupportedEvent
from portside.events import (
    EVENT_TYPES,
    AnyEvent,
    Headers,
)
from portside.record import fields

_KINDS = {cls.__name__: cls for cls in EVENT_TYPES}


def _enc(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, (Mapping, Headers)):
        return {str(k): _enc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    return value


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return base64.b64decode(value["$b"])
        if len(value) == 1 and "$t" in value:
            return datetime.fromisoformat(value["$t"])
        return {k: _dec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return value


def dump(event: AnyEvent) -> str:
    """One JSON object: ``{"kind": "Message", "id": ..., ...}``."""
    out = {"kind": type(event).__name__}
    for name in fields(event):
        out[name] = _enc(getattr(event, name))
    return json.dumps(out, separators=(",", ":"), default=str)


def load(text: str | bytes) -> AnyEvent:
    """The event ``dump`` wrote; anything else is ``UnsupportedEvent`` naming what was found."""
    try:
        raw = json.loads(text)
        cls = _KINDS[raw.pop("kind")]
        return cls(**{k: _dec(v) for k, v in raw.items()})
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise UnsupportedEvent(f"stored event is not readable ({type(e).__name__}: {e}): {str(text)[:80]!r}") from None
