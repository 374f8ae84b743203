"""Fan-out subscriber 1: share a new profile on the social feed.

Posting is a side effect that must not happen twice (a duplicate delivery would post the
same puppy twice), so the handler is ``@idempotent`` per profile. If the profile names a
photo whose thumbnail is not ready yet (the upload is still being processed), it raises an
ordinary error: its *own* subscription retries it with backoff and, in the end, dead-letters
it, while the matchmaking and search subscribers are not affected at all.
"""

from __future__ import annotations

import uuid

from handlers.app import idempotency, images, social_feed
from handlers.schemas import read_profile_created
from portside import Message, idempotent


class ThumbnailNotReady(RuntimeError):
    """Retryable: the photo's thumbnail may appear once the upload has been processed."""


def _profile_key(message: Message) -> str:
    return read_profile_created(message)["profile_id"]


@idempotent(idempotency, key=_profile_key, expires_after=7 * 24 * 3600)
def share_profile(message: Message) -> None:
    profile = read_profile_created(message)
    pet, owner = profile["pet"], profile["owner"]
    thumbnail = None
    if pet["photo"]:
        row = images.get(pet["photo"])
        if row is None:
            raise ThumbnailNotReady(f"no thumbnail yet for photo {pet['photo']!r} of {profile['profile_id']}")
        thumbnail = row["thumbnail"]
    tags = " ".join(f"#{t.replace(' ', '')}" for t in profile["tags"])
    social_feed.put({"id": f"post-{uuid.uuid4().hex[:16]}", "profile_id": profile["profile_id"],
                     "text": f"Meet {pet['name']}, a {pet['breed']} from {owner['city']}! {tags}".strip(),
                     "thumbnail": thumbnail, "posted": message.time.isoformat()})
