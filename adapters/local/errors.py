"""The local runtime's own failures: one line naming the problem and what to do."""

from __future__ import annotations

from portside.errors import PortsideError


class LocalError(PortsideError):
    """Something on this machine stops the local runtime (port taken, data dir unusable...)."""
