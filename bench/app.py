"""The reference app's costs, as ratios against a baseline measured in the same run.

    .venv/bin/python -m bench.app

1. Thumbnails: ``render`` of a 12-megapixel JPEG, which asks Pillow to decode at a reduced
   scale (``draft``), against the same resize decoding every pixel first.
2. An order's whole choreography on the fake cloud (POST, then 7 invocations of 4
   functions, 4 log appends, 4 publishes), against one contact-form POST + store.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

from PIL import Image, ImageOps

from handlers.app import app
from handlers.thumbnails import THUMB_SIZE, render
from portside.fake import FakeCloud


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


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
    draft = median_ms(lambda: render(data, "bench.jpg"), 7)
    full = median_ms(lambda: full_decode(data), 7)
    print(f"thumbnail of a 4000x3000 JPEG ({len(data) // 1024} KB): with draft {draft:.1f} ms, "
          f"full decode {full:.1f} ms -> draft takes {draft / full:.2f}x the time")
    order = median_ms(one_order, 50)
    contact = median_ms(one_contact, 50)
    print(f"fake cloud: one order end to end {order:.2f} ms, one contact form {contact:.2f} ms "
          f"-> an order costs {order / contact:.1f}x a contact form")


if __name__ == "__main__":
    main()
