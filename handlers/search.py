"""Fan-out subscriber 3: a tiny inverted index of profiles, and ``GET /search?q=`` over it.

One row per (term, profile): a duplicate delivery rewrites the same rows (idempotent by design).
"""

from __future__ import annotations

import re

from handlers.app import search_index
from handlers.schemas import read_profile_created
from portside import HttpError, HttpRequest, Message

WORD = re.compile(r"[a-z0-9]+")
MAX_TERMS, MAX_RESULTS = 5, 50


def terms(*texts: str) -> list[str]:
    """Lowercase words of two characters or more, deduplicated, in order."""
    return list(dict.fromkeys(w for t in texts for w in WORD.findall(t.lower()) if len(w) >= 2))


def index_profile(message: Message) -> None:
    profile = read_profile_created(message)
    pet, owner = profile["pet"], profile["owner"]
    row = {"profile_id": profile["profile_id"], "name": pet["name"], "breed": pet["breed"], "city": owner["city"]}
    for term in terms(pet["name"], pet["breed"], owner["city"], *profile["tags"]):
        search_index.put({"term": term, **row})


def search(request: HttpRequest) -> dict:
    """GET /search?q=beagle chicago: profiles matching every word."""
    words = terms(request.arg("q") or "")
    if not words:
        raise HttpError(400, "give a query: /search?q=beagle")
    if len(words) > MAX_TERMS:
        raise HttpError(400, f"at most {MAX_TERMS} words per query")
    found: dict[str, dict] | None = None
    for word in words:
        rows = {r["profile_id"]: {k: v for k, v in r.items() if k != "term"} for r in search_index.query(word)}
        found = rows if found is None else {k: v for k, v in found.items() if k in rows}
    results = sorted((found or {}).values(), key=lambda r: r["profile_id"])[:MAX_RESULTS]
    return {"query": words, "results": results}
