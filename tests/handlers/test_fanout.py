"""Pattern 3, fan-out: POST /profiles -> ProfileCreated -> three independent subscribers."""

from __future__ import annotations

import pytest

from handlers.schemas import PROFILE_CREATED, PROFILE_SCHEMA
from tests.handlers.conftest import PROFILE, image_bytes

SUBSCRIBERS = ("share-profile", "index-for-matches", "index-profile")


def create(cloud, **changes) -> str:
    reply = cloud.http("POST", "/profiles", json={**PROFILE, **changes})
    assert reply.status == 201, reply.body
    return reply.json()["profile_id"]


def effects(cloud) -> dict[str, int]:
    return {"share-profile": len(cloud.items("social-feed")), "index-for-matches": len(cloud.items("match-pools")),
            "index-profile": len({r["profile_id"] for r in cloud.items("search-index")})}


def test_one_event_reaches_all_three_subscribers(cloud):
    profile_id = create(cloud)
    [event] = cloud.events_published("profile-events")
    assert event.type == PROFILE_CREATED and event.dataschema == PROFILE_SCHEMA.format(2)
    assert event.subject == profile_id and event.data["pet"]["breed"] == "Beagle"
    assert cloud.table("profiles").get({"id": profile_id})["owner"]["city"] == "Chicago"
    cloud.run_until_idle()
    assert effects(cloud) == dict.fromkeys(SUBSCRIBERS, 1)
    [post] = cloud.items("social-feed")
    assert post["text"] == "Meet Rex, a Beagle from Chicago! #goodboy #loveskids" and post["thumbnail"] is None
    assert cloud.items("match-pools")[0]["pool"] == "beagle#chicago"
    assert sorted(r["term"] for r in cloud.items("search-index")) == \
        ["beagle", "boy", "chicago", "good", "kids", "loves", "rex"]


def test_each_subscriber_runs_in_its_own_invocation_with_its_own_grants(cloud):
    create(cloud)
    cloud.run_until_idle()
    for name in SUBSCRIBERS:
        [outcome] = cloud.invocations(name)
        assert outcome.ok


def test_one_failing_subscriber_does_not_affect_the_others(cloud):
    cloud.fail_next("index-for-matches", times=10)  # more than its max attempts
    create(cloud)
    cloud.run_until_idle()
    assert effects(cloud) == {"share-profile": 1, "index-for-matches": 0, "index-profile": 1}
    [dead] = cloud.dead_letters()
    assert dead.function == "index-for-matches" and dead.attempts == 5  # its own retries, then its own DLQ
    assert len(cloud.invocations("share-profile")) == 1 and len(cloud.invocations("index-profile")) == 1


def test_a_photo_whose_thumbnail_is_not_ready_is_retried_until_it_is(cloud):
    create(cloud, photo="rex.jpg")  # the profile arrives before the upload has been processed
    cloud.upload("uploads", "rex.jpg", image_bytes())
    cloud.run_until_idle()
    attempts = [o.attempt for o in cloud.invocations("share-profile")]
    assert attempts[0] == 1 and not cloud.invocations("share-profile")[0].ok
    assert cloud.items("social-feed")[0]["thumbnail"] == "rex.jpg.thumb.jpg"
    assert cloud.dead_letters() == []


def test_a_photo_that_never_appears_dead_letters_only_that_subscriber(cloud):
    create(cloud, photo="missing.jpg")
    cloud.run_until_idle()
    [dead] = cloud.dead_letters()
    assert dead.function == "share-profile" and dead.error_type == "ThumbnailNotReady" and dead.attempts == 5
    assert effects(cloud) == {"share-profile": 0, "index-for-matches": 1, "index-profile": 1}


def test_duplicate_deliveries_have_one_effect_each(cloud):
    cloud.inject(duplicates=1)
    create(cloud)
    cloud.run_until_idle()
    assert all(len(cloud.invocations(n)) == 2 for n in SUBSCRIBERS)
    assert effects(cloud) == dict.fromkeys(SUBSCRIBERS, 1)
    assert len(cloud.items("social-feed")) == 1  # posts get fresh ids: only @idempotent prevents a second


def test_the_same_event_published_twice_is_shared_once(cloud):
    create(cloud)
    [event] = cloud.events_published("profile-events")
    cloud.publish("profile-events", event)  # e.g. a producer retry after a timeout
    cloud.run_until_idle()
    assert effects(cloud) == dict.fromkeys(SUBSCRIBERS, 1)


def test_profiles_in_the_same_pool_see_each_other(cloud):
    first, second = create(cloud), create(cloud, name="Bella", breed="beagle ")
    create(cloud, name="Max", city="Boston")
    cloud.run_until_idle()
    pool = cloud.table("match-pools").query("beagle#chicago")
    assert sorted(r["profile_id"] for r in pool) == sorted([first, second])


def test_search_finds_profiles_matching_every_word(cloud):
    rex = create(cloud)
    create(cloud, name="Max", city="Boston")
    cloud.run_until_idle()
    found = cloud.http("GET", "/search", query={"q": "Beagle, CHICAGO"}).json()
    assert found["query"] == ["beagle", "chicago"] and [r["profile_id"] for r in found["results"]] == [rex]
    assert len(cloud.http("GET", "/search", query={"q": "beagle"}).json()["results"]) == 2
    assert cloud.http("GET", "/search", query={"q": "poodle"}).json()["results"] == []


@pytest.mark.parametrize("query, says", [({}, "give a query"), ({"q": "a b c d e f g h"}, "give a query"),
                                         ({"q": "one two three four five six"}, "at most 5 words")])
def test_search_needs_a_sensible_query(cloud, query, says):
    reply = cloud.http("GET", "/search", query=query)
    assert reply.status == 400 and says in reply.json()["error"]


@pytest.mark.parametrize("changes, says", [
    ({"name": ""}, "name"), ({"owner_email": "nope"}, "owner_email"), ({"tags": "x"}, "tags"),
    ({"tags": ["x"] * 11}, "tags"), ({"photo": 3}, "photo"), ({"city": None}, "city"),
])
def test_invalid_profiles_are_refused_and_nothing_is_published(cloud, changes, says):
    reply = cloud.http("POST", "/profiles", json={**PROFILE, **changes})
    assert reply.status == 422 and says in reply.json()["error"]
    assert cloud.published("profile-events") == [] and cloud.items("profiles") == []


def test_a_body_that_is_not_a_json_object_is_a_400(cloud):
    assert cloud.http("POST", "/profiles", body=b"nope").status == 400
    assert cloud.http("POST", "/profiles", json=["x"]).status == 400
