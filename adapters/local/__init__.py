"""The local target: the whole app on one machine, durable (SQLite WAL + files + HTTP on 127.0.0.1).

    from portside.local import LocalCloud
    with LocalCloud("shop.app:app", ".portside").start(port=8000) as cloud:
        ...  # cloud.url, cloud.send(...), cloud.items("contacts"), cloud.dead_letters()

``portside dev`` is the same thing behind a command line.
"""

from portside.local.errors import LocalError
from portside.local.runtime import LocalCloud, Report, running

__all__ = ["LocalCloud", "LocalError", "Report", "running"]
