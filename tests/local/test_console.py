"""The console's API over HTTP: traces built from the trace context, dead letters, buckets, tables,
the send forms, and the checks that keep other local pages out. The page itself is driven in a real
browser by test_console_browser.py."""

from __future__ import annotations

import http.client
import json
from typing import Any

from portside.local.console import Console
from portside.local.console.journal import Journal
from tests.local.conftest import wait_for


def call(c: Console, method: str, path: str, body: Any = None, *, token: bool = True,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    assert c.url
    conn = http.client.HTTPConnection(c.url.removeprefix("http://"), timeout=10)
    h = {"X-Portside-Token": c.token} if token else {}
    h.update(headers or {})
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("content-type") or ""
        return resp.status, json.loads(raw) if "json" in ctype else raw
    finally:
        conn.close()


def functions_in(node: dict, out: set[str] | None = None) -> set[str]:
    out = set() if out is None else out
    if node["type"] == "invocation":
        out.add(node["function"])
    for child in node["children"]:
        functions_in(child, out)
    return out


def test_a_post_shows_as_one_trace_through_queue_and_topic(console: Console) -> None:
    status, reply = call(console, "POST", "/api/send/http",
                         {"method": "POST", "path": "/orders", "body": '{"id": "o-1", "item": "kibble"}'})
    assert status == 200 and reply["status"] == 202, reply
    trace_id = reply["trace_id"]

    def complete() -> dict | None:
        status, trace = call(console, "GET", f"/api/traces/{trace_id}")
        return trace if status == 200 and trace["invocations"] == 4 else None

    trace = wait_for(complete, what="the whole trace")
    [root] = trace["roots"]
    assert root["function"] == "place" and root["attempts"][0]["status"] == 202
    [send] = root["children"]
    assert (send["type"], send["action"], send["resource"], send["consumers"]) == ("write", "send", "order-jobs", 1)
    [work] = send["children"]
    assert work["function"] == "work" and work["source"] == "queue order-jobs"
    [publish] = work["children"]
    assert (publish["action"], publish["resource"], publish["consumers"]) == ("publish", "order-events", 2)
    assert {c["function"] for c in publish["children"]} == {"notify", "audit"}
    assert trace["failed"] == 0 and trace["root"] == "http POST /orders -> place"
    [listed] = [t for t in call(console, "GET", "/api/traces")[1] if t["trace_id"] == trace_id]
    assert listed["functions"] == ["audit", "notify", "place", "work"]


def test_a_dead_letter_is_listed_redriven_and_processed(console: Console) -> None:
    call(console, "POST", "/api/send/event", {"resource": "order-jobs", "body": '{"id": "bad", "poison": true}'})
    status, [dead] = wait_for(lambda: (lambda r: r if r[1] else None)(call(console, "GET", "/api/dead-letters")),
                              what="the dead letter")
    assert dead["function"] == "work" and dead["error_type"] == "PermanentError" and "poison" in dead["error"]
    assert call(console, "POST", "/api/dead-letters/redrive", {"ids": [dead["id"] + 100]}) == \
        (404, {"error": f"no dead letter with id {dead['id'] + 100}"})
    status, _ = call(console, "POST", "/api/buckets/fixes/object?key=bad", b"fixed",
                     headers={"content-type": "text/plain"})
    assert status == 201
    assert call(console, "POST", "/api/dead-letters/redrive", {"ids": [dead["id"]]}) == (200, {"redriven": 1})
    wait_for(lambda: console.cloud.table("notices").get({"id": "bad"}), what="the redriven order processed")
    assert call(console, "GET", "/api/dead-letters")[1] == []
    status, events = call(console, "GET", "/api/events?function=work")
    assert [e["outcome"] for e in events if e["type"] == "invocation"] == ["dead-letter", "ok"]
    status, trace = call(console, "GET", f"/api/traces/{events[0]['trace_id']}")
    [send] = trace["roots"]
    [work] = send["children"]
    assert [a["outcome"] for a in work["attempts"]] == ["dead-letter", "ok"]  # one node, its two attempts


def test_discard_a_dead_letter(console: Console) -> None:
    call(console, "POST", "/api/send/event", {"resource": "order-jobs", "body": '{"id": "x", "poison": true}'})
    [dead] = wait_for(lambda: call(console, "GET", "/api/dead-letters")[1], what="the dead letter")
    assert call(console, "POST", "/api/dead-letters/discard", {"ids": [dead["id"]]}) == (200, {"discarded": 1})
    assert console.cloud.dead_letters() == []


def test_events_filter_by_function_resource_and_outcome(console: Console) -> None:
    call(console, "POST", "/api/send/event", {"resource": "order-jobs", "body": '{"id": "f1"}'})
    call(console, "POST", "/api/send/event", {"resource": "order-jobs", "body": '{"id": "f2", "poison": true}'})
    wait_for(lambda: len(call(console, "GET", "/api/events?resource=order-events")[1]) >= 3, what="the events")
    _, by_fn = call(console, "GET", "/api/events?function=notify")
    assert {e["function"] for e in by_fn} == {"notify"} and by_fn
    _, by_outcome = call(console, "GET", "/api/events?outcome=dead-letter")
    assert [(e["function"], e["outcome"]) for e in by_outcome] == [("work", "dead-letter")]
    _, by_resource = call(console, "GET", "/api/events?resource=order-events")
    assert {(e["type"], e.get("function")) for e in by_resource} >= {("write", "work"), ("invocation", "notify")}


def test_buckets_and_tables(console: Console) -> None:
    assert call(console, "POST", "/api/buckets/fixes/object?key=a/b.txt", b"hi",
                headers={"content-type": "text/plain"})[0] == 201
    status, objects = call(console, "GET", "/api/buckets/fixes")
    assert [(o["key"], o["size"], o["content_type"]) for o in objects] == [("a/b.txt", 2, "text/plain")]
    status, data = call(console, "GET", "/api/buckets/fixes/object?key=a/b.txt")
    assert status == 200 and data == b"hi"
    assert call(console, "DELETE", "/api/buckets/fixes/object?key=a/b.txt")[0] == 200
    assert call(console, "DELETE", "/api/buckets/fixes/object?key=a/b.txt")[0] == 404
    console.cloud.send("order-jobs", {"id": "t-1"})
    wait_for(lambda: console.cloud.items("audit"), what="the audit item")
    status, scan = call(console, "GET", "/api/tables/audit")
    assert scan["items"] == [{"order": "t-1", "seq": "001", "what": "placed"}] and scan["sort_key"] == "seq"
    assert call(console, "GET", "/api/tables/audit?partition=t-1")[1]["items"] == scan["items"]
    assert call(console, "GET", "/api/tables/audit?partition=t-1&sort=001")[1]["items"] == scan["items"]
    assert call(console, "GET", "/api/tables/audit?partition=t-1&sort=002")[1]["items"] == []
    assert call(console, "GET", "/api/tables/order-jobs")[0] == 400  # a queue, not a table


def test_send_event_refuses_what_does_not_apply(console: Console) -> None:
    status, reply = call(console, "POST", "/api/send/event", {"resource": "order-jobs", "body": "{}", "key": "k"})
    assert status == 400 and "--key does not apply to queue 'order-jobs'" in reply["error"]
    status, reply = call(console, "POST", "/api/send/event", {"resource": "notices", "body": "{}"})
    assert status == 400 and "takes no events" in reply["error"]


def test_the_graph_links_each_node_to_its_events(console: Console) -> None:
    status, svg = call(console, "GET", "/api/graph")
    text = svg.decode()
    assert status == 200 and text.startswith("<svg")
    assert 'href="#events?function=work"' in text and 'href="#events?resource=order-events"' in text


def test_the_page_ships_its_assets_and_locks_itself_down(console: Console) -> None:
    status, page = call(console, "GET", "/")
    html = page.decode()
    assert status == 200 and f'content="{console.token}"' in html and "console-test" in html
    assert "http://" not in html.replace(console.url or "", "")  # nothing loaded from elsewhere
    for asset in ("app.js", "style.css"):
        assert call(console, "GET", f"/static/{asset}")[0] == 200
    conn = http.client.HTTPConnection((console.url or "").removeprefix("http://"), timeout=5)
    conn.request("GET", "/")
    headers = {k.lower(): v for k, v in conn.getresponse().getheaders()}
    conn.close()
    assert "script-src" not in headers["content-security-policy"]  # default-src 'self': no inline script
    assert "default-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"


def test_other_pages_cannot_call_the_console(console: Console) -> None:
    body = {"resource": "order-jobs", "body": "{}"}
    status, reply = call(console, "POST", "/api/send/event", body, token=False)
    assert status == 403 and "X-Portside-Token" in reply["error"]
    status, reply = call(console, "POST", "/api/send/event", body, headers={"Origin": "http://evil.example"})
    assert status == 403 and "evil.example" in reply["error"]
    status, reply = call(console, "POST", "/api/send/event", body, headers={"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    status, reply = call(console, "GET", "/api/app", headers={"Host": "attacker.example:80"})  # DNS rebinding
    assert status == 403 and "attacker.example" in reply["error"]
    assert console.cloud.store.pending() == 0  # nothing got through


def test_the_console_binds_loopback_only(console: Console) -> None:
    assert console.server is not None and console.server.effective_host == "127.0.0.1"


def test_the_stream_sends_new_entries_as_server_sent_events(console: Console) -> None:
    conn = http.client.HTTPConnection((console.url or "").removeprefix("http://"), timeout=10)
    conn.request("GET", "/api/stream?after=0")
    resp = conn.getresponse()
    assert resp.getheader("content-type") == "text/event-stream"
    console.cloud.send("order-jobs", {"id": "streamed"})
    found = None
    while found is None:
        line = resp.readline().decode()
        if line.startswith("data: ") and '"function": "work"' in line and '"type": "invocation"' in line:
            found = json.loads(line[6:])
    conn.close()
    assert found["outcome"] == "ok" and "streamed" in found["preview"]


def test_an_upload_lends_its_trace_to_the_handlers_it_triggers() -> None:
    from portside.delivery import Outcome
    from portside.events import ObjectCreated
    from portside.local.report import Report
    from portside.trace import TraceContext

    journal = Journal()
    event = ObjectCreated("obj-1", "uploads", "a.png")
    journal.write("put", "uploads", event, consumers=1)
    for attempt in (1, 2):  # the object event carries no trace context; each attempt starts a new one
        journal.invocation(Report("bucket uploads", "thumb", Outcome(event, attempt, trace=TraceContext.new()), None))
    [trace] = journal.traces()
    [put] = journal.trace(trace["trace_id"])["roots"]
    [thumb] = put["children"]
    assert put["action"] == "put" and [a["attempt"] for a in thumb["attempts"]] == [1, 2]


def test_event_streams_are_bounded_and_their_slots_come_back(console: Console) -> None:
    from portside.local.console.server import MAX_STREAMS

    def open_stream() -> tuple[http.client.HTTPConnection, int]:
        conn = http.client.HTTPConnection((console.url or "").removeprefix("http://"), timeout=10)
        conn.request("GET", "/api/stream")
        resp = conn.getresponse()
        if resp.status == 200:
            resp.readline()  # the stream has started
        return conn, resp.status

    streams = [open_stream() for _ in range(MAX_STREAMS)]
    assert [status for _, status in streams] == [200] * MAX_STREAMS
    extra, status = open_stream()
    extra.close()
    assert status == 503  # the console's threads are not all taken by streams
    for conn, _ in streams:
        conn.close()
    console.cloud.send("order-jobs", {"id": "wake"})  # a stream notices its client left when it writes
    wait_for(lambda: open_stream()[1] == 200, timeout=10, what="a stream slot given back")
