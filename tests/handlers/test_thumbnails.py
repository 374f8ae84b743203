"""Pattern 1, upload processing: a real Pillow resize, a metadata row, and poison to the dead letter."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import handlers.thumbnails as thumbs
from tests.handlers.conftest import image_bytes


def test_an_image_gets_a_thumbnail_and_a_metadata_row(cloud):
    cloud.upload("uploads", "photos/rex.jpg", image_bytes(size=(1200, 800)))
    cloud.run_until_idle()
    data = cloud.objects("thumbnails")["photos/rex.jpg.thumb.jpg"]
    thumb = Image.open(io.BytesIO(data))
    assert thumb.format == "JPEG" and thumb.size == (256, 171)  # fits 256x256, aspect kept
    [row] = cloud.items("images")
    assert row["id"] == "photos/rex.jpg" and row["thumbnail"] == "photos/rex.jpg.thumb.jpg"
    assert (row["width"], row["height"], row["format"]) == (1200, 800, "JPEG")
    assert (row["thumb_width"], row["thumb_height"]) == thumb.size and row["thumb_bytes"] == len(data)
    assert cloud.bucket("thumbnails").objects["photos/rex.jpg.thumb.jpg"].metadata == {"source": "photos/rex.jpg"}
    assert cloud.dead_letters() == []


def test_transparency_is_kept_as_png(cloud):
    cloud.upload("uploads", "logo.png", image_bytes("PNG", (300, 300), "RGBA"))
    cloud.run_until_idle()
    thumb = Image.open(io.BytesIO(cloud.objects("thumbnails")["logo.png.thumb.png"]))
    assert thumb.mode == "RGBA" and thumb.size == (256, 256)
    assert cloud.items("images")[0]["content_type"] == "image/png"


def test_exif_rotation_is_applied(cloud):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": a portrait phone photo stored landscape
    cloud.upload("uploads", "phone.jpg", image_bytes(size=(400, 200), exif=exif))
    cloud.run_until_idle()
    assert Image.open(io.BytesIO(cloud.objects("thumbnails")["phone.jpg.thumb.jpg"])).size == (128, 256)


def test_a_small_image_is_not_enlarged(cloud):
    cloud.upload("uploads", "tiny.gif", image_bytes("GIF", (40, 20), "P"))
    cloud.run_until_idle()
    assert cloud.items("images")[0]["thumb_width"] == 40


@pytest.mark.parametrize("key, data, reason", [
    ("notes.txt", b"hello, not an image", "is not an image Pillow can read"),
    ("empty.jpg", b"", "is not an image Pillow can read"),
    ("cut.png", image_bytes("PNG", (200, 200))[:120], "is a damaged image"),
])
def test_a_file_that_is_not_an_image_goes_to_the_dead_letter_without_retries(cloud, key, data, reason):
    cloud.upload("uploads", key, data)
    cloud.run_until_idle()
    [dead] = cloud.dead_letters()
    assert dead.function == "make-thumbnail" and dead.error_type == "PermanentError"
    assert dead.attempts == 1 and len(cloud.invocations("make-thumbnail")) == 1
    assert key in dead.error and reason in dead.error
    assert dead.event.key == key  # the event is kept intact, so it can be inspected and redriven
    assert cloud.objects("thumbnails") == {} and cloud.items("images") == []


def test_too_many_pixels_is_refused_before_decoding(cloud, monkeypatch):
    monkeypatch.setattr(thumbs, "MAX_PIXELS", 10_000)
    cloud.upload("uploads", "huge.png", image_bytes("PNG", (200, 100)))
    cloud.run_until_idle()
    [dead] = cloud.dead_letters()
    assert "200x100: over the 10000-pixel limit" in dead.error and dead.attempts == 1


def test_too_many_bytes_is_refused_before_download(cloud, monkeypatch):
    monkeypatch.setattr(thumbs, "MAX_BYTES", 100)
    cloud.upload("uploads", "big.jpg", image_bytes())
    cloud.run_until_idle()
    assert "over the 100-byte limit" in cloud.dead_letters()[0].error


def test_a_transient_failure_is_retried_then_succeeds(cloud):
    cloud.fail_next("make-thumbnail", times=2)
    cloud.upload("uploads", "a.jpg", image_bytes())
    cloud.run_until_idle()
    assert [o.attempt for o in cloud.invocations("make-thumbnail")] == [1, 2, 3]
    assert list(cloud.objects("thumbnails")) == ["a.jpg.thumb.jpg"] and cloud.dead_letters() == []


def test_failing_every_attempt_dead_letters_after_max_attempts(cloud):
    cloud.fail_next("make-thumbnail", times=3)
    cloud.upload("uploads", "a.jpg", image_bytes())
    cloud.run_until_idle()
    [dead] = cloud.dead_letters()
    assert dead.attempts == 3 and dead.error_type == "RuntimeError"


def test_a_duplicate_delivery_has_one_effect(cloud):
    cloud.inject(duplicates=1)
    cloud.upload("uploads", "a.jpg", image_bytes())
    cloud.run_until_idle()
    assert len(cloud.invocations("make-thumbnail")) == 2
    assert list(cloud.objects("thumbnails")) == ["a.jpg.thumb.jpg"] and len(cloud.items("images")) == 1


def test_an_upload_deleted_before_processing_is_skipped(cloud):
    cloud.upload("uploads", "gone.jpg", image_bytes())
    cloud.bucket("uploads").objects.pop("gone.jpg")  # vanished without a delete event
    cloud.run_until_idle()
    assert cloud.objects("thumbnails") == {} and cloud.dead_letters() == []


def test_deleting_an_upload_removes_its_thumbnail_and_row(cloud):
    cloud.upload("uploads", "a.jpg", image_bytes())
    cloud.upload("uploads", "b.jpg", image_bytes())
    cloud.run_until_idle()
    cloud.bucket("uploads").delete("a.jpg")
    cloud.bucket("uploads").delete("never-processed.txt")  # missing: no event, nothing to do
    cloud.run_until_idle()
    assert list(cloud.objects("thumbnails")) == ["b.jpg.thumb.jpg"]
    assert [r["id"] for r in cloud.items("images")] == ["b.jpg"]
