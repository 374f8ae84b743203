"""Upload processing: an image written to `uploads` gets a thumbnail and a metadata row.

A file that is not an image (or is too big, or a decompression bomb) raises PermanentError:
retrying cannot make it an image, so it goes straight to the dead letter with the reason.
Re-processing the same upload overwrites the same thumbnail and row: duplicates are harmless.
"""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from handlers.app import images, thumbnails, uploads
from portside import NotFound, ObjectCreated, ObjectDeleted, PermanentError

log = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024  # larger uploads are refused, not resized
MAX_PIXELS = 50_000_000  # checked from the header, before decoding: no decompression bombs
THUMB_SIZE = (256, 256)  # the thumbnail fits in this box, aspect ratio kept


def thumbnail_key(key: str, has_alpha: bool) -> str:
    """``photos/rex.png`` -> ``photos/rex.png.thumb.png`` (keeps distinct uploads distinct)."""
    return f"{key}.thumb.{'png' if has_alpha else 'jpg'}"


def render(data: bytes, name: str) -> tuple[bytes, str, dict[str, object]]:
    """Resize ``data`` to a thumbnail: (bytes, content type, metadata). PermanentError if not an image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise PermanentError(f"{name} is {width}x{height}: over the {MAX_PIXELS}-pixel limit")
            source_format = img.format or "unknown"
            img.draft("RGB", THUMB_SIZE)  # JPEG: decode at a reduced scale, much faster
            img = ImageOps.exif_transpose(img)  # phones store rotation in EXIF
            img.thumbnail(THUMB_SIZE)
    except PermanentError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        kind = "too large to decode safely" if "ecompression" in type(e).__name__ else "not an image Pillow can read"
        raise PermanentError(f"{name} is {kind} (it starts with {data[:12]!r})") from None
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt image data
        raise PermanentError(f"{name} is a damaged image: {type(e).__name__}: {e}") from None
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    out = io.BytesIO()
    if has_alpha:
        img.convert("RGBA").save(out, "PNG", optimize=True)
    else:
        img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    meta = {"format": source_format, "width": width, "height": height,
            "thumb_width": img.width, "thumb_height": img.height, "has_alpha": has_alpha}
    return out.getvalue(), "image/png" if has_alpha else "image/jpeg", meta


def make_thumbnail(event: ObjectCreated) -> None:
    """uploads -> thumbnails + an `images` row describing both."""
    if event.size is not None and event.size > MAX_BYTES:
        raise PermanentError(f"{event.key} is {event.size} bytes: over the {MAX_BYTES}-byte limit")
    try:
        data = uploads.get(event.key)
    except NotFound:  # deleted before we got to it: nothing to do (the delete handler tidies up)
        log.info("upload %s is gone; no thumbnail", event.key)
        return
    thumb, content_type, meta = render(data, event.key)
    key = thumbnail_key(event.key, bool(meta["has_alpha"]))
    thumbnails.put(key, thumb, content_type, metadata={"source": event.key})
    images.put({"id": event.key, "thumbnail": key, "content_type": content_type, "bytes": len(data),
                "thumb_bytes": len(thumb), "etag": event.etag, "uploaded": event.time.isoformat(), **meta})


def remove_thumbnail(event: ObjectDeleted) -> None:
    """A deleted upload takes its thumbnail and metadata row with it."""
    row = images.get(event.key)
    if row is None:
        return
    thumbnails.delete(row["thumbnail"])
    images.delete(event.key)
