"""Normalized events <-> JSON text, so a pending delivery or a dead letter survives a restart intact.

``$kind`` and ``$v`` name the class and the format; each field of the event is one top-level key
(fields never start with ``$``; ``RecordChanged`` has a field called ``kind``), and only there is an
encoding marked: bytes as
``{"$b": base64}``, a datetime as ``{"$t": iso}``, any dict or list as ``{"$j": value}``, scalars as
themselves. User data (attributes, CloudEvent data, headers, items) is always inside ``$j`` and
never looked into, so no attribute or key the user chooses can be taken for a mark.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from json.decoder import scanstring as _scanstring
from json.encoder import encode_basestring_ascii
from types import MappingProxyType
from typing import Any

from portside.errors import UnsupportedEvent
from portside.events import EVENT_TYPES, AnyEvent, Message, _loads, deferred_message, trusted_message
from portside.record import fields

VERSION = 2
_KINDS = {cls.__name__: cls for cls in EVENT_TYPES}
_FIELDS = {cls: fields(cls) for cls in EVENT_TYPES}
_PLAIN = (str, int, float, bool, type(None))  # JSON as they are: never a dict, so never taken for a mark


def _enc(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, Mapping) and not isinstance(value, dict):  # read-only mappings: JSON's fast path
        value = dict(value.items())
    return {"$j": value}


def _json(value: Any) -> Any:
    """Nested values JSON does not know: read-only mappings (Headers, frozen dicts) as objects,
    anything else as its text, as the clouds would carry it."""
    if isinstance(value, Mapping):
        return dict(value.items())
    return str(value)


_b2a = binascii.b2a_base64  # base64.b64encode, without its Python layer
_quote = encode_basestring_ascii  # how _encode writes a str (ensure_ascii)
_encode = json.JSONEncoder(separators=(",", ":"), default=_json).encode  # made once: json.dumps makes one a call


def _dec(value: dict[str, Any]) -> Any:
    (mark, inner), = value.items()  # exactly one key, else ValueError
    if mark == "$j":
        return inner
    if mark == "$b":
        return base64.b64decode(inner)
    if mark == "$t":
        return datetime.fromisoformat(inner)
    raise ValueError(f"unknown mark {mark!r}")


def dump(event: AnyEvent) -> str:
    """One JSON object: ``{"$kind": "Message", "$v": 2, "id": ..., ...}``."""
    if event.__class__ is Message:  # every send and publish: the text _encode would make of the same object,
        # written out (a Message's fields are text, an int and a datetime: JSON strings by the encoder's own escaping)
        attributes = ",".join([f"{_quote(k)}:{_quote(v)}" for k, v in event.attributes.items()])
        key = "null" if event.ordering_key is None else _quote(event.ordering_key)
        return (f'{{"$kind":"Message","$v":{VERSION},"id":{_quote(event.id)},'
                f'"body":{{"$b":"{_b2a(event.body, newline=False).decode()}"}},"source":{_quote(event.source)},'
                f'"attributes":{{"$j":{{{attributes}}}}},"attempt":{event.attempt},"ordering_key":{key},'
                f'"time":{{"$t":"{event.time.isoformat()}"}}}}')
    out: dict[str, Any] = {"$kind": type(event).__name__, "$v": VERSION}
    for name in _FIELDS[type(event)]:
        value = getattr(event, name)
        out[name] = value if value.__class__ in _PLAIN else _enc(value)
    return _encode(out)


_a2b = binascii.a2b_base64  # base64.b64decode of text, without its Python layers
_fromisoformat = datetime.fromisoformat


def _text_map(values: dict[Any, Any]) -> bool:
    for k, v in values.items():
        if k.__class__ is not str or v.__class__ is not str:
            return False
    return True


_HEAD = f'{{"$kind":"Message","$v":{VERSION},"id":"'  # how dump begins a Message, up to its id's text
_BODY = '","body":{"$b":"'
_KEY = ',"ordering_key":'


def _message(text: str) -> Message | None:
    """The ``Message`` ``dump`` wrote, reading its id, body, attempt and ordering key out of the text
    it wrote in line, and the rest (source, attributes, time) when the handler first asks for them
    (``deferred_message``): most read the body alone. None for any text that is not exactly that
    shape (``load`` reads it whole, and names what is wrong)."""
    if not text.startswith(_HEAD):
        return None
    start = len(_HEAD)
    end = text.find('"', start)
    ident = text[start:end]
    if not ident or "\\" in ident or not text.startswith(_BODY, end):
        return None
    start = end + len(_BODY)
    end = text.find('"', start)
    try:
        body = _a2b(text[start:end])
    except binascii.Error:
        return None
    # ',"' never occurs inside a JSON string (a quote in one is escaped), so the last ',"ordering_key":'
    # is the top-level key dump wrote after the attributes, and ',"attempt":' the one just before it
    key_at = text.rfind(_KEY)
    attempt_at = text.rfind(',"attempt":', 0, key_at)
    if attempt_at < 0 or not text[attempt_at + 11:key_at].isdigit():
        return None
    attempt = int(text[attempt_at + 11:key_at])
    rest = key_at + len(_KEY)
    if text.startswith('null,"time":', rest):
        key = None
    elif text.startswith('"', rest):
        key, end = _scanstring(text, rest + 1)
        if not text.startswith(',"time":', end):
            return None
    else:
        return None
    if attempt < 1:
        return None
    return deferred_message(ident, body, attempt, key, (_rest, text))


def _rest(text: str) -> tuple[str, Any, datetime]:
    """A deferred message's source, attributes and time, read from its whole text."""
    message = load(text, whole=True)
    return message.source, message.attributes, message.time  # type: ignore[union-attr]


def load(text: str | bytes, whole: bool = False) -> AnyEvent:
    """The event ``dump`` wrote; anything else is ``UnsupportedEvent`` naming what was found. A
    ``Message`` reads its fields but the body (and id, attempt, ordering key) when first asked
    (``_message``), unless ``whole``."""
    if not whole and text.__class__ is str:
        message = _message(text)  # type: ignore[arg-type]
        if message is not None:
            return message
    try:
        try:
            raw = _loads(text if isinstance(text, str) else text.decode())
        except (ValueError, StopIteration):
            raw = json.loads(text)  # its error names the problem
        if "$kind" not in raw:
            return _KINDS[raw.pop("kind")](**{k: _dec_v1(v) for k, v in raw.items()})
        cls = _KINDS[raw.pop("$kind")]
        if raw.pop("$v") != VERSION:
            raise ValueError("written by a newer portside")
        if cls is Message and len(raw) == 7:  # every delivery: the fields dump wrote, read without the loop
            ident, body = raw["id"], raw["body"]["$b"]
            body = _a2b(body) if body.__class__ is str else base64.b64decode(body)
            source, attributes, attempt, key = raw["source"], raw["attributes"]["$j"], raw["attempt"], raw["ordering_key"]
            time = _fromisoformat(raw["time"]["$t"])
            if ident.__class__ is str and ident and source.__class__ is str and source and attempt.__class__ is int \
                    and attempt >= 1 and (key is None or key.__class__ is str) and time.tzinfo is not None \
                    and attributes.__class__ is dict and _text_map(attributes):  # what Message checks, in line
                return trusted_message(ident, body, source, MappingProxyType(attributes), attempt, key, time)
            return Message(ident, body, source, attributes, attempt, key, time)  # names what is wrong
        for name, value in raw.items():
            if value.__class__ is dict:
                raw[name] = _dec(value)
        return cls(**raw)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise UnsupportedEvent(f"stored event is not readable ({type(e).__name__}: {e}): {str(text)[:80]!r}") from None


def plain(text: str | bytes) -> dict[str, Any]:
    """A stored event as a plain JSON object for people and scripts (``portside dlq list --json``):
    ``kind`` is its class, the fields follow (``RecordChanged.kind`` as ``change``), bytes stay
    ``{"$b": base64}``, datetimes are ISO text; an unreadable row comes back as ``{"raw": text}``."""
    try:
        event = load(text)
    except UnsupportedEvent:
        return {"kind": None, "raw": text if isinstance(text, str) else text.decode("utf-8", "replace")}
    out: dict[str, Any] = {"kind": type(event).__name__}
    for name in _FIELDS[type(event)]:
        value = getattr(event, name)
        value = value if value.__class__ in _PLAIN else _enc(value)
        if isinstance(value, dict) and "$j" in value:
            value = value["$j"]
        elif isinstance(value, dict) and "$t" in value:
            value = value["$t"]
        out["change" if name == "kind" else name] = value
    return json.loads(_encode(out))


def _dec_v1(value: Any) -> Any:
    """Rows written before VERSION 2 (still pending in an older data dir), which marked values anywhere."""
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return base64.b64decode(value["$b"])
        if len(value) == 1 and "$t" in value:
            return datetime.fromisoformat(value["$t"])
        return {k: _dec_v1(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec_v1(v) for v in value]
    return value


__all__ = ["dump", "load"]
