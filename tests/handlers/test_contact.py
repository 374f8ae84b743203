"""Pattern 2, async API: validate fast, answer 202, store from the queue once per (email, message)."""

from __future__ import annotations

import pytest

FORM = {"name": "Ann", "email": "ann@example.com", "message": "Do you ship to Canada?"}


def test_a_valid_form_is_accepted_with_202_queued_and_stored(cloud):
    reply = cloud.http("POST", "/contact", json=FORM)
    assert reply.status == 202
    request_id = reply.json()["request_id"]
    [queued] = cloud.sent("contact-jobs")
    assert queued.json() == {"request_id": request_id, **FORM}
    assert cloud.items("contacts") == []  # nothing stored until the worker runs: it is asynchronous
    cloud.run_until_idle()
    [row] = cloud.items("contacts")
    assert row["id"] == request_id and row["email"] == FORM["email"] and row["message"] == FORM["message"]


def test_an_html_form_post_is_accepted(cloud):
    reply = cloud.http("POST", "/contact", body="name=Bo&email=bo%40example.com&message=Hi+there",
                       headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert reply.status == 202
    cloud.run_until_idle()
    assert cloud.items("contacts")[0]["message"] == "Hi there"


@pytest.mark.parametrize("body, status, says", [
    ({"name": "Ann", "message": "hi"}, 422, "missing required fields: email"),
    ({"name": " ", "email": "a@b.co", "message": "hi"}, 422, "missing required fields: name"),
    ({**FORM, "email": "not-an-email"}, 422, "is not an email address"),
    ({**FORM, "email": 42}, 422, "fields must be strings: email"),
    ({**FORM, "name": "x" * 201}, 422, "name (max 200)"),
    ([1, 2], 400, "must be a JSON object"),
])
def test_invalid_forms_are_refused_with_a_reason_and_nothing_is_queued(cloud, body, status, says):
    reply = cloud.http("POST", "/contact", json=body)
    assert reply.status == status and says in reply.json()["error"]
    assert cloud.sent("contact-jobs") == []


def test_a_body_that_is_not_json_is_a_400(cloud):
    reply = cloud.http("POST", "/contact", body=b"{nope", headers={"content-type": "application/json"})
    assert reply.status == 400 and "JSON" in reply.json()["error"]


def test_an_oversized_body_is_a_413(cloud):
    reply = cloud.http("POST", "/contact", json={**FORM, "message": "x" * 20_000})
    assert reply.status == 413 and "limit is 16384" in reply.json()["error"]


def test_the_same_email_and_message_is_stored_once_within_the_window(cloud):
    assert cloud.http("POST", "/contact", json=FORM).status == 202
    assert cloud.http("POST", "/contact", json={**FORM, "email": "ANN@example.com"}).status == 202
    assert cloud.http("POST", "/contact", json={**FORM, "message": "Another question"}).status == 202
    cloud.run_until_idle()
    assert sorted(r["message"] for r in cloud.items("contacts")) == ["Another question", FORM["message"]]


def test_after_the_window_the_same_message_is_stored_again(cloud):
    cloud.http("POST", "/contact", json=FORM)
    cloud.run_until_idle()
    cloud.clock += 24 * 3600 + 60
    cloud.http("POST", "/contact", json=FORM)
    cloud.run_until_idle()
    assert len(cloud.items("contacts")) == 2


def test_a_duplicate_delivery_stores_once(cloud):
    cloud.inject(duplicates=2)
    cloud.http("POST", "/contact", json=FORM)
    cloud.run_until_idle()
    assert len(cloud.invocations("store")) == 3 and len(cloud.items("contacts")) == 1


def test_a_failed_store_is_retried_and_stored_once(cloud):
    cloud.fail_next("store", times=2)
    cloud.http("POST", "/contact", json=FORM)
    cloud.run_until_idle()
    assert [o.attempt for o in cloud.invocations("store")] == [1, 2, 3]
    assert len(cloud.items("contacts")) == 1 and cloud.dead_letters() == []


@pytest.mark.parametrize("body", [b"not json", b'{"email": "a@b.co"}', b"[]"])
def test_a_malformed_job_goes_to_the_dead_letter_at_once(cloud, body):
    cloud.send("contact-jobs", body)
    cloud.run_until_idle()
    [dead] = cloud.dead_letters("store")
    assert dead.attempts == 1 and dead.error_type == "PermanentError"
    assert cloud.items("contacts") == []


def test_one_bad_job_in_a_batch_does_not_take_down_its_neighbours(cloud):
    cloud.send("contact-jobs", b"garbage")
    cloud.http("POST", "/contact", json=FORM)
    cloud.run_until_idle()
    assert len(cloud.items("contacts")) == 1 and len(cloud.dead_letters("store")) == 1
