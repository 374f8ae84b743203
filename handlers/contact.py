"""Contact form, the async API pattern: validate and accept fast, do the work from a queue.

``POST /contact`` takes JSON or an HTML form post (``application/x-www-form-urlencoded``),
answers 202 with a request id, and queues the job; the worker stores it once per
(email, message) within a day, however often it is submitted or delivered.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from handlers.app import contact_jobs, contacts, idempotency
from portside import HttpError, HttpRequest, HttpResponse, Message, PermanentError, idempotent

MAX_BODY = 16 * 1024
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED = ("name", "email", "message")
LIMITS = {"name": 200, "email": 254, "message": 10_000}  # characters, per field
DUPLICATE_WINDOW = 24 * 3600  # the same email + message within a day is stored once


def _form(request: HttpRequest) -> Mapping[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        try:
            return {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            raise HttpError(400, "form body is not UTF-8") from None
    try:
        form = request.json()
    except PermanentError:
        raise HttpError(400, "body must be a JSON object (or a url-encoded form)") from None
    if not isinstance(form, dict):
        raise HttpError(400, f"body must be a JSON object, got {type(form).__name__}")
    return form


def validate(form: Mapping[str, Any]) -> dict[str, str]:
    """The cleaned fields, or HttpError(422) naming every problem."""
    bad_type = [f for f in REQUIRED if f in form and not isinstance(form[f], str)]
    if bad_type:
        raise HttpError(422, f"fields must be strings: {', '.join(bad_type)}")
    clean = {f: str(form.get(f) or "").strip() for f in REQUIRED}
    missing = [f for f in REQUIRED if not clean[f]]
    if missing:
        raise HttpError(422, f"missing required fields: {', '.join(missing)}")
    too_long = [f"{f} (max {LIMITS[f]})" for f in REQUIRED if len(clean[f]) > LIMITS[f]]
    if too_long:
        raise HttpError(422, f"fields too long: {', '.join(too_long)}")
    if not EMAIL.match(clean["email"]):
        raise HttpError(422, f"email {clean['email']!r} is not an email address")
    return clean


def accept(request: HttpRequest) -> HttpResponse:
    """POST /contact: 202 with a request id, or 4xx saying what is wrong.

    Example: {"name": "Ada", "email": "ada@example.com", "message": "Hello from portside dev"}
    """
    if len(request.body) > MAX_BODY:
        raise HttpError(413, f"body is {len(request.body)} bytes; the limit is {MAX_BODY}")
    job = {"request_id": request.id, **validate(_form(request))}
    contact_jobs.send(job)
    return HttpResponse.json_body({"request_id": request.id}, status=202)


def _job(message: Message) -> dict[str, str]:
    """The queued job, checked: a malformed one is permanent (it goes to the dead letter at once)."""
    job = message.json()
    if not isinstance(job, dict) or not all(isinstance(job.get(f), str) and job[f]
                                            for f in ("request_id", *REQUIRED)):
        raise PermanentError(f"contact job {message.id} needs request_id, name, email and message strings")
    return job


def _fingerprint(message: Message) -> str:
    job = _job(message)
    return hashlib.sha256(f"{job['email'].lower()}\n{job['message']}".encode()).hexdigest()


@idempotent(idempotency, key=_fingerprint, expires_after=DUPLICATE_WINDOW)
def store(message: Message) -> None:
    """Store one submission; a duplicate within the window does nothing."""
    job = _job(message)
    contacts.put({"id": job["request_id"], "name": job["name"], "email": job["email"],
                  "message": job["message"], "received": message.time.isoformat()})
