"""Time compression for asynchronous targets: the same declarations, shorter waits.

A scenario that dead-letters after five attempts with ``Backoff(5, 60)`` would wait 75 s
between attempts on a real clock. Targets whose retry delay comes from the declaration
(local, GCP's retry policy) run a copy of the app whose backoffs are scaled down: every
other option (max attempts, dead letter on/off, filters, batch sizes, grants) is unchanged,
so the same decisions are taken in the same order, only sooner. AWS gets the same effect
from a short SQS visibility timeout (its retry delay), see drivers_aws.py.
"""

from __future__ import annotations

from portside.app import App, load_app
from portside.declarations import Backoff
from portside.record import replace

SCALE = 0.01  # 5 s -> 50 ms, 60 s -> 0.6 s


def compressed(app: App | str = "handlers.app:app", scale: float = SCALE) -> App:
    """A copy of ``app`` whose every trigger's backoff is ``scale`` times the declared one.

    The resources are the same objects (handlers import their handles from the app module,
    and permission checks go by resource name), the functions are copies: the original app,
    which other drivers in the same session use, is not touched.
    """
    original = load_app(app) if isinstance(app, str) else app
    copy = App.__new__(App)
    copy.name, copy.resources, copy.functions = original.name, dict(original.resources), {}
    for name, fn in original.functions.items():
        b = fn.trigger.backoff
        trigger = replace(fn.trigger, backoff=Backoff(b.initial * scale, b.maximum * scale))
        copy.functions[name] = replace(fn, trigger=trigger)
    return copy
