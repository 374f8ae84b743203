"""The console ``portside dev`` serves: the running app in the browser (live events, traces, the
graph, dead letters, buckets and tables, a form to send requests and events).

    from portside.local import LocalCloud
    from portside.local.console import Console
    with LocalCloud("shop.app:app", ".portside").start(port=0) as cloud:
        console = Console(cloud).start(port=0)   # before traffic: it records what the runtime reports
        print(console.url)
"""

from portside.local.console.journal import Journal
from portside.local.console.server import Console

__all__ = ["Console", "Journal"]
