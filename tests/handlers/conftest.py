"""Fixtures for the reference app's unit tests: a fresh FakeCloud per test, and small real images."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from handlers.app import app
from portside.fake import FakeCloud


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud(app)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), mode: str = "RGB", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(out, fmt, **save)
    return out.getvalue()


def place(cloud: FakeCloud, items: list[dict[str, Any]] | None = None, *, token: str = "tok_visa",
          customer: str = "ann@example.com", headers: dict[str, str] | None = None) -> str:
    """POST /orders and return the order id (asserting the 202)."""
    reply = cloud.http("POST", "/orders", json={"customer": customer, "payment_token": token,
                                                "items": items or [{"sku": "leash", "qty": 1}]}, headers=headers)
    assert reply.status == 202, reply.body
    return reply.json()["order_id"]


PROFILE = {"name": "Rex", "breed": "Beagle", "owner_email": "ann@example.com", "city": "Chicago",
           "tags": ["good boy", "loves kids"]}
