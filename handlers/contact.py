"""Contact form, the async API pattern: validate and accept fast, do the work from a queue."""

from __future__ import annotations

import hashlib
import re

from handlers.app import contact_jobs, contacts, idempotency
from portside import HttpError, HttpRequest, HttpResponse, Message, idempotent

MAX_BODY = 16 * 1024
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED = ("name", "email", "message")
DUPLICATE_WINDOW = 24 * 3600  # the same email + message within a day is stored once


def accept(request: HttpRequest) -> HttpResponse:
    """POST /contact: 202 with a request id, or 4xx saying what is wrong."""
    if len(request.body) > MAX_BODY:
        raise HttpError(413, f"body is {len(request.body)} bytes; the limit is {MAX_BODY}")
    try:
        form = request.json()
    except Exception:
        raise HttpError(400, "body must be a JSON object") from None
    if not isinstance(form, dict):
        raise HttpError(400, "body must be a JSON object")
    missing = [f for f in REQUIRED if not str(form.get(f) or "").strip()]
    if missing:
        raise HttpError(422, f"missing required fields: {', '.join(missing)}")
    if not EMAIL.match(form["email"]):
        raise HttpError(422, f"email {form['email']!r} is not an email address")
    job = {"request_id": request.id, **{f: str(form[f]).strip() for f in REQUIRED}}
    contact_jobs.send(job)
    return HttpResponse.json_body({"request_id": request.id}, status=202)


def _fingerprint(message: Message) -> str:
    job = message.json()
    return hashlib.sha256(f"{job['email'].lower()}\n{job['message']}".encode()).hexdigest()


@idempotent(idempotency, key=_fingerprint, expires_after=DUPLICATE_WINDOW)
def store(message: Message) -> None:
    """Store one submission; a duplicate within the window does nothing."""
    job = message.json()
    contacts.put({"id": job["request_id"], "name": job["name"], "email": job["email"],
                  "message": job["message"], "received": message.time.isoformat()})
