"""The reference app's costs, as ratios against a baseline measured in the same run.

    .venv/bin/python -m bench.app

1. Thumbnails: ``render`` of a 12-megapixel JPEG, which asks Pillow to decode at a reduced
   scale (``draft``), against the same resize decoding every pixel first.
2. An order's whole choreography on the fake cloud (POST, then 7 invocations of 4
   functions, 4 log appends, 4 publishes), against one contact-form POST + store.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from bench.results import record
from bench.timing import figure
from handlers.app import app
from handlers.thumbnails import THUMB_SIZE, render
from portside.fake import FakeCloud


def full_decode(data: bytes) -> bytes:
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    img.thumbnail(THUMB_SIZE)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def photo() -> bytes:
    img = Image.effect_noise((4000, 3000), 64).convert("RGB")  # noise: no easy compression
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def one_order() -> None:
    cloud = FakeCloud(app)
    cloud.http("POST", "/orders", json={"customer": "a@example.com", "payment_token": "tok_visa",
                                        "items": [{"sku": "leash", "qty": 1}]})
    cloud.run_until_idle()


def one_contact() -> None:
    cloud = FakeCloud(app)
    cloud.http("POST", "/contact", json={"name": "A", "email": "a@example.com", "message": "hi"})
    cloud.run_until_idle()


def main() -> None:
    data = photo()
    thumb = figure(lambda: full_decode(data), lambda: render(data, "bench.jpg"), rounds=7, number=1)
    print(f"thumbnail of a 4000x3000 JPEG ({len(data) // 1024} KB): draft {thumb['us'] / 1000:.1f} ms, full decode "
          f"{thumb['baseline_us'] / 1000:.1f} ms -> {thumb['ratio']}x {thumb['spread']}")
    order = figure(one_contact, one_order, rounds=21, number=10)
    print(f"fake cloud: one order end to end {order['us'] / 1000:.2f} ms, one contact form "
          f"{order['baseline_us'] / 1000:.2f} ms -> {order['ratio']}x {order['spread']}")
    record("app", ".venv/bin/python -m bench.app", {
        "thumbnail of a 4000x3000 JPEG, draft decoding vs decoding every pixel": thumb,
        "one order choreographed on the fake cloud (POST + 7 invocations) vs one contact form": order,
    }, notes="Alternating rounds; ratio is the median of per-round ratios, spread the quartiles.")


if __name__ == "__main__":
    main()
