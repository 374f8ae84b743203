"""Pattern 7, schema versioning: ProfileCreated v1 and v2; consumers upcast v1 and accept both."""

from __future__ import annotations

import pytest

from handlers.schemas import PROFILE_SCHEMA, profile_created, profile_created_v1, read_profile_created, upcast_v1
from portside import Event, PermanentError
from tests.handlers.conftest import PROFILE

V1 = {"profile_id": "pup-old1", "name": "Rex", "breed": "Beagle", "owner_email": "ann@example.com",
      "city": "Chicago"}


def test_upcast_v1_gives_the_v2_shape():
    assert upcast_v1({**V1, "photo": "rex.jpg"}) == {
        "profile_id": "pup-old1", "pet": {"name": "Rex", "breed": "Beagle", "photo": "rex.jpg"},
        "owner": {"email": "ann@example.com", "city": "Chicago"}, "tags": []}


def test_v1_and_v2_read_the_same():
    v2 = profile_created(upcast_v1(V1))
    assert v2.dataschema == PROFILE_SCHEMA.format(2)
    assert read_profile_created(profile_created_v1(V1)) == read_profile_created(v2)


def test_a_v1_event_delivered_after_v2_is_deployed_reaches_every_subscriber(cloud):
    reply = cloud.http("POST", "/profiles", json=PROFILE)  # the deployed producer publishes v2
    cloud.run_until_idle()
    cloud.publish("profile-events", profile_created_v1(V1))  # an old producer, a queued message, a redrive
    cloud.run_until_idle()
    assert cloud.dead_letters() == []
    ids = {reply.json()["profile_id"], "pup-old1"}
    assert {r["profile_id"] for r in cloud.items("social-feed")} == ids
    assert {r["profile_id"] for r in cloud.items("match-pools")} == ids
    assert {r["profile_id"] for r in cloud.table("search-index").query("rex")} == ids
    old = next(p for p in cloud.items("social-feed") if p["profile_id"] == "pup-old1")
    assert old["text"] == "Meet Rex, a Beagle from Chicago!"


def test_the_same_profile_in_v1_then_v2_is_shared_once(cloud):
    cloud.publish("profile-events", profile_created_v1(V1))
    cloud.publish("profile-events", profile_created(upcast_v1(V1)))
    cloud.run_until_idle()
    assert len(cloud.items("social-feed")) == 1


def _v(n: int, data: dict) -> Event:
    return Event(type="ProfileCreated", source="/test", data=data, dataschema=PROFILE_SCHEMA.format(n))


@pytest.mark.parametrize("event, says", [
    (_v(3, {"profile_id": "p"}), "is v3; this consumer knows up to v2"),
    (profile_created_v1({"profile_id": "p", "name": "Rex"}), "v1 is missing ['breed', 'owner_email', 'city']"),
    (_v(2, {"profile_id": "p", "pet": {"name": "Rex"}}), "pet.name/pet.breed"),
    (Event(type="ProfileCreated", source="/t", data={}, dataschema="https://elsewhere/v2"), "unknown dataschema"),
    (_v(2, [1, 2]), "data must be an object"),
])
def test_unknown_or_broken_versions_go_to_every_subscribers_dead_letter_at_once(cloud, event, says):
    cloud.publish("profile-events", event)
    cloud.run_until_idle()
    dead = cloud.dead_letters()
    assert sorted(d.function for d in dead) == ["index-for-matches", "index-profile", "share-profile"]
    assert all(d.attempts == 1 and says in d.error for d in dead), [d.error for d in dead]


def test_a_message_that_is_not_a_cloudevent_is_permanent():
    from portside import Message
    with pytest.raises(PermanentError):
        read_profile_created(Message("m1", b'{"hello": 1}', "profile-events"))
