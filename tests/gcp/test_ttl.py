"""A table's declared ``ttl`` field on Firestore: stored as a timestamp, read back as the number written.

Firestore's TTL policy deletes a document only when its TTL field holds a timestamp; a number is
ignored (https://cloud.google.com/firestore/docs/ttl: "the field must be a Date and time type").
The idempotency records (``portside.idempotency``) write ``expires_at`` as epoch seconds, as on
DynamoDB, so before the fix they were never deleted on GCP. Run against the Firestore emulator.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from portside import App
from portside.gcp.ports import GcpTarget, firestore_client
from tests.gcp.conftest import PROJECT


@pytest.fixture
def seen(firestore_emulator: str, unique: str):
    app = App("ttltest")
    table = app.table(f"seen-{unique}".replace("_", "-")[:40], ttl="expires_at")
    database = f"db-{unique}"
    return GcpTarget({table.name: database}, PROJECT).port(table), firestore_client(PROJECT, database), table.name


def test_the_ttl_field_is_a_firestore_timestamp_and_reads_back_as_written(seen) -> None:
    port, client, collection = seen
    expires = 1_900_000_000
    port.put({"id": "a", "expires_at": expires, "n": 1})
    raw = client.collection(collection).document("a").get().to_dict()
    assert isinstance(raw["expires_at"], datetime)  # what Firestore's TTL policy acts on
    assert raw["expires_at"] == datetime.fromtimestamp(expires, timezone.utc)
    assert raw["n"] == 1  # only the declared ttl field changes type
    assert port.get({"id": "a"}) == {"id": "a", "expires_at": expires, "n": 1}

    assert port.put_if_absent({"id": "b", "expires_at": expires + 0.5})
    assert isinstance(client.collection(collection).document("b").get().to_dict()["expires_at"], datetime)
    assert port.get({"id": "b"})["expires_at"] == expires + 0.5

    assert port.update({"id": "a"}, {"expires_at": expires + 60}) == {"id": "a", "expires_at": expires + 60, "n": 1}
    assert isinstance(client.collection(collection).document("a").get().to_dict()["expires_at"], datetime)
    assert sorted(i["expires_at"] for i in port.query("a")) == [expires + 60]

