"""Fan-out, the producer side: ``POST /profiles`` stores a puppy profile and publishes ProfileCreated.

The producer knows nothing of its consumers (social share, matchmaking, search): adding a
fourth is one more ``profile_events.on_event`` declaration, with no change here.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from handlers.app import profile_events, profiles
from handlers.schemas import profile_created
from portside import HttpError, HttpRequest, HttpResponse, PermanentError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELDS = {"name": 80, "breed": 80, "owner_email": 254, "city": 80}  # required, with max lengths
MAX_TAGS, MAX_TAG = 10, 30


def _validate(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    problems = [f"{f} (a string of 1-{n} characters)" for f, n in FIELDS.items()
                if not isinstance(body.get(f), str) or not 0 < len(body[f].strip()) <= n]
    if not problems and not EMAIL.match(body["owner_email"].strip()):
        problems.append("owner_email (an email address)")
    photo = body.get("photo")
    if photo is not None and (not isinstance(photo, str) or not photo or len(photo) > 1024):
        problems.append("photo (the key of an image in the uploads bucket)")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or \
            not all(isinstance(t, str) and 0 < len(t) <= MAX_TAG for t in tags):
        problems.append(f"tags (up to {MAX_TAGS} strings of 1-{MAX_TAG} characters)")
    if problems:
        raise HttpError(422, f"invalid fields: {', '.join(problems)}")
    return {f: body[f].strip() for f in FIELDS} | {"photo": photo, "tags": [t.strip() for t in tags]}


def create_profile(request: HttpRequest) -> HttpResponse:
    """POST /profiles: 201 with the profile id; subscribers catch up asynchronously.

    Example: {"name": "Rex", "breed": "beagle", "owner_email": "ada@example.com", "city": "Lyon", "tags": ["playful"]}
    """
    try:
        body = request.json()
    except PermanentError:
        raise HttpError(400, "body must be JSON") from None
    form = _validate(body)
    profile_id = f"pup-{uuid.uuid4().hex[:12]}"
    data = {"profile_id": profile_id,
            "pet": {"name": form["name"], "breed": form["breed"], "photo": form["photo"]},
            "owner": {"email": form["owner_email"], "city": form["city"]},
            "tags": form["tags"]}
    profiles.put({"id": profile_id, **data, "created": request.time.isoformat()})
    profile_events.publish(profile_created(data))
    return HttpResponse.json_body({"profile_id": profile_id}, status=201)
