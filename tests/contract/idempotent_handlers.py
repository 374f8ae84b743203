"""A handler made idempotent with a table its function may only write (tests/contract/test_declarations.py)."""

from __future__ import annotations

from portside import Message, idempotent
from portside.declarations import Table

seen = Table("seen", ttl="expires_at")  # the same name as the app's table: the check goes by name


@idempotent(seen)
def count(message: Message) -> None:
    """Never runs: loading it fails."""
