"""Fan-out subscriber 2: put a new profile in its matchmaking pool (same breed, same city).

Idempotent by design rather than by decorator: the row's key is (pool, profile id), so a
duplicate delivery writes the same row again and changes nothing.
"""

from __future__ import annotations

import logging

from handlers.app import match_pools
from handlers.schemas import read_profile_created
from portside import Message

log = logging.getLogger(__name__)


def pool_of(breed: str, city: str) -> str:
    return f"{breed.strip().lower()}#{city.strip().lower()}"


def index_for_matches(message: Message) -> None:
    profile = read_profile_created(message)
    pool = pool_of(profile["pet"]["breed"], profile["owner"]["city"])
    match_pools.put({"pool": pool, "profile_id": profile["profile_id"], "name": profile["pet"]["name"],
                     "owner_email": profile["owner"]["email"]})
    others = [r["profile_id"] for r in match_pools.query(pool) if r["profile_id"] != profile["profile_id"]]
    log.info("profile %s joined pool %s with %d candidates", profile["profile_id"], pool, len(others))
