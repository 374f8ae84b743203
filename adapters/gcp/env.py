"""The environment contract with infra/ (read by file path there): names only, no imports.

The Pulumi program writes these variables on every Cloud Function; the adapter reads them.
"""

APP = "PORTSIDE_APP"  # "module:attribute" of the App, e.g. "handlers.app:app"
FUNCTION = "PORTSIDE_FUNCTION"  # the declared function this deployment runs
RESOURCES = "PORTSIDE_RESOURCES"  # JSON {logical: physical}: bucket name, topic path
#   projects/P/topics/T for queues and topics, Firestore database id for tables
#   (the collection is the table's logical name), or {"database": ..., "collection": ...}
DEAD_LETTER_TOPIC = "PORTSIDE_DEAD_LETTER_TOPIC"  # projects/P/topics/T of this function's trigger
PROJECT = "GOOGLE_CLOUD_PROJECT"  # project id for bare topic names and clients

# functions-framework signature -> the attribute of adapters.gcp that serves it;
# the generated main.py does: from adapters.gcp import on_cloud_event, on_http
TARGETS = {"http": "on_http", "event": "on_cloud_event"}
