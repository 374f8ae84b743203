"""What the shop sells: price and starting stock per SKU (a real shop keeps this in a table)."""

from __future__ import annotations

CATALOG: dict[str, dict[str, object]] = {
    "kibble-5kg": {"name": "Kibble, 5 kg", "price_cents": 2_499, "stock": 100},
    "leash": {"name": "Leash", "price_cents": 1_299, "stock": 50},
    "dog-bed": {"name": "Dog bed", "price_cents": 5_999, "stock": 20},
    "gps-collar": {"name": "GPS collar", "price_cents": 17_900, "stock": 10},
    "agility-set": {"name": "Agility course set", "price_cents": 49_900, "stock": 3},
}


def price_of(sku: str) -> int:
    return int(CATALOG[sku]["price_cents"])  # type: ignore[call-overload]


def stock_of(sku: str) -> int:
    return int(CATALOG[sku]["stock"])  # type: ignore[call-overload]
