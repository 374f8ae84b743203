"""The portable scenario suite: written once against ``Driver``, run on every registered target.

Each scenario is what a user would do and see; none of them reaches inside a target.
"""

from __future__ import annotations

import io

from PIL import Image

from handlers.schemas import profile_created, profile_created_v1
from tests.scenarios.drivers import Driver

PROFILE = {"name": "Rex", "breed": "Beagle", "owner_email": "ann@example.com", "city": "Chicago"}
FORM = {"name": "Ann", "email": "ann@example.com", "message": "Do you ship to Canada?"}


def jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_upload_makes_a_thumbnail_and_a_metadata_row(driver: Driver) -> None:
    driver.upload("uploads", "photos/rex.jpg", jpeg(), "image/jpeg")
    thumbs = driver.wait_until(lambda: driver.objects("thumbnails"), what="a thumbnail")
    assert Image.open(io.BytesIO(thumbs["photos/rex.jpg.thumb.jpg"])).size == (256, 192)
    rows = driver.wait_until(lambda: driver.items("images"), what="a metadata row")
    assert rows[0]["id"] == "photos/rex.jpg" and (rows[0]["width"], rows[0]["height"]) == (800, 600)


def test_form_goes_through_the_queue_into_the_table(driver: Driver) -> None:
    reply = driver.http("POST", "/contact", json=FORM)
    assert reply.status == 202
    request_id = reply.json()["request_id"]
    rows = driver.wait_until(lambda: [r for r in driver.items("contacts") if r["id"] == request_id],
                             what="the contact row")
    assert rows[0]["email"] == FORM["email"]
    assert driver.http("POST", "/contact", json={**FORM, "email": "nope"}).status == 422


def test_fan_out_with_one_failing_subscriber(driver: Driver) -> None:
    # the photo never arrives: the social share keeps failing and dead-letters; the others do not care
    reply = driver.http("POST", "/profiles", json={**PROFILE, "photo": "never-uploaded.jpg"})
    assert reply.status == 201
    profile_id = reply.json()["profile_id"]
    driver.wait_until(lambda: any(r["profile_id"] == profile_id for r in driver.items("match-pools")),
                      what="the matchmaking row")
    driver.wait_until(lambda: any(r["profile_id"] == profile_id for r in driver.items("search-index")),
                      what="the search rows")
    dead = driver.wait_until(lambda: driver.dead_letters(), timeout=180, what="the social share's dead letter")
    assert {(d.function, d.error_type) for d in dead} == {("share-profile", "ThumbnailNotReady")}
    assert driver.items("social-feed") == []


def test_poison_upload_goes_to_the_dead_letter_without_retries(driver: Driver) -> None:
    driver.upload("uploads", "notes.txt", b"this is not an image", "text/plain")
    dead = driver.wait_until(lambda: driver.dead_letters(), what="a dead letter")
    # (a duplicated delivery may dead-letter twice; each copy still gets exactly one attempt)
    assert {(d.function, d.error_type, d.attempts) for d in dead} == {("make-thumbnail", "PermanentError", 1)}
    assert all("notes.txt is not an image" in d.error for d in dead)
    assert driver.objects("thumbnails") == {}


def test_a_poison_message_is_dead_lettered_and_its_batch_neighbours_are_stored(driver: Driver) -> None:
    # three jobs sent back to back (one SQS batch on AWS): the malformed one must not take the others down
    driver.send("contact-jobs", {"request_id": "job-1", **FORM, "message": "first question"})
    driver.send("contact-jobs", b"{this is not json")
    driver.send("contact-jobs", {"request_id": "job-2", **FORM, "message": "second question"})
    rows = driver.wait_until(lambda: len(driver.items("contacts")) == 2 and driver.items("contacts"),
                             what="both good jobs stored")
    assert sorted(r["id"] for r in rows) == ["job-1", "job-2"]
    dead = driver.wait_until(lambda: driver.dead_letters(), what="the poison job's dead letter")
    assert {(d.function, d.error_type, d.attempts) for d in dead} == {("store", "PermanentError", 1)}


def test_duplicates_have_one_effect(driver: Driver) -> None:
    # the same form twice (a double click) and the same event twice (a producer's retry)
    assert driver.http("POST", "/contact", json=FORM).status == 202
    assert driver.http("POST", "/contact", json=FORM).status == 202
    event = profile_created({"profile_id": "pup-dup", "pet": {"name": "Rex", "breed": "Beagle"},
                             "owner": {"email": "ann@example.com", "city": "Chicago"}, "tags": []})
    driver.publish("profile-events", event)
    driver.publish("profile-events", event)
    driver.wait_until(lambda: driver.items("contacts") and driver.items("social-feed"), what="both effects")
    driver.settle()
    assert len(driver.items("contacts")) == 1 and len(driver.items("social-feed")) == 1
    assert driver.dead_letters() == []


def test_an_order_is_choreographed_to_shipped(driver: Driver) -> None:
    reply = driver.http("POST", "/orders", json={"customer": "ann@example.com", "payment_token": "tok_visa",
                                                 "items": [{"sku": "leash", "qty": 1}]})
    assert reply.status == 202
    href = reply.json()["href"]
    order = driver.wait_until(lambda: (o := driver.http("GET", href).json())["status"] == "shipped" and o,
                              what="the order to ship")
    assert [h["type"] for h in order["history"]] == ["OrderPlaced", "InventoryReserved", "PaymentCaptured",
                                                    "OrderShipped"]


def test_a_declined_payment_cancels_the_order(driver: Driver) -> None:
    reply = driver.http("POST", "/orders", json={"customer": "bo@example.com", "payment_token": "tok_declined",
                                                 "items": [{"sku": "dog-bed", "qty": 1}]})
    href = reply.json()["href"]
    order = driver.wait_until(lambda: (o := driver.http("GET", href).json())["status"] == "cancelled" and o,
                              what="the order to be cancelled")
    assert order["reason"] == "payment failed: card declined"


def test_a_v1_event_after_v2_is_deployed(driver: Driver) -> None:
    driver.publish("profile-events", profile_created_v1({"profile_id": "pup-v1", "name": "Old", "breed": "Pug",
                                                          "owner_email": "o@example.com", "city": "Oslo"}))
    rows = driver.wait_until(lambda: [r for r in driver.items("match-pools") if r["profile_id"] == "pup-v1"],
                             what="the v1 profile in its pool")
    assert rows[0]["pool"] == "pug#oslo"
    driver.wait_until(lambda: driver.items("social-feed"), what="the v1 profile shared")
    assert driver.dead_letters() == []
