"""The console's HTTP side: its page, and a JSON API over the running ``LocalCloud``.

Bound to 127.0.0.1 like the app, on its own port, and closed to other pages the browser runs:

- every request must name this server in ``Host`` (127.0.0.1 or localhost, this port), so a
  page on another name that resolves here (DNS rebinding) is refused;
- every request that changes something (POST, DELETE) must carry the console's token in
  ``X-Portside-Token`` (the page reads it from its own HTML, which no other origin can read) and,
  when the browser says where it comes from (``Origin``, ``Sec-Fetch-Site``), come from here;
- the page runs only its own script and style (Content-Security-Policy), is never framed, and
  objects download as attachments, never rendered in the console's origin.
"""

from __future__ import annotations

import hmac
import http.client
import json
import mimetypes
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote

from portside.declarations import Bucket, HttpTrigger, Queue, Schedule, Table, Topic
from portside.errors import PortsideError
from portside.events import HttpResponse
from portside.local import codec
from portside.local.console.journal import Journal, preview
from portside.local.errors import LocalError
from portside.local.flow import svg
from portside.local.http import Server, send, serve_wsgi, wsgi_body, wsgi_path
from portside.local.inject import example, inject
from portside.local.runtime import LocalCloud
from portside.record import replace
from portside.trace import TRACEPARENT, TraceContext

TOKEN_HEADER = "HTTP_X_PORTSIDE_TOKEN"
STREAM_SECONDS = 25.0  # an event stream ends after this; the browser reconnects where it left off
MAX_STREAMS = 6  # each open stream holds one of the console's threads
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps(data, default=str).encode())


class Console:
    """``Console(cloud).start(port)``: the console of a started ``LocalCloud``; ``stop()`` when done."""

    def __init__(self, cloud: LocalCloud, journal: Journal | None = None) -> None:
        self.cloud = cloud
        self.journal = journal or Journal()
        self.token = secrets.token_urlsafe(24)
        self.server: Server | None = None
        self.url: str | None = None
        self.error: str | None = None  # the last reload that failed, shown on every page
        self._streams = threading.BoundedSemaphore(MAX_STREAMS)
        self._previous = cloud.on_report  # `portside dev`'s live line keeps printing
        cloud.on_report = self._report
        cloud.on_write = self.journal.write
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., HttpResponse]]] = [
            ("GET", re.compile(r"/api/app"), self.app_info),
            ("GET", re.compile(r"/api/events"), self.events),
            ("GET", re.compile(r"/api/traces"), self.traces),
            ("GET", re.compile(r"/api/traces/(?P<trace_id>[\w-]+)"), self.trace),
            ("GET", re.compile(r"/api/graph"), self.graph),
            ("GET", re.compile(r"/api/dead-letters"), self.dead_letters),
            ("POST", re.compile(r"/api/dead-letters/redrive"), self.redrive),
            ("POST", re.compile(r"/api/dead-letters/discard"), self.discard),
            ("GET", re.compile(r"/api/buckets/(?P<name>[\w.-]+)"), self.bucket_list),
            ("GET", re.compile(r"/api/buckets/(?P<name>[\w.-]+)/object"), self.object_get),
            ("POST", re.compile(r"/api/buckets/(?P<name>[\w.-]+)/object"), self.object_put),
            ("DELETE", re.compile(r"/api/buckets/(?P<name>[\w.-]+)/object"), self.object_delete),
            ("GET", re.compile(r"/api/tables/(?P<name>[\w.-]+)"), self.table_items),
            ("POST", re.compile(r"/api/send/event"), self.send_event),
            ("POST", re.compile(r"/api/send/http"), self.send_http),
        ]

    def _report(self, report: Any) -> None:
        self.journal.invocation(report)
        if self._previous is not None:
            self._previous(report)

    # -- lifecycle --
    def start(self, port: int = 0) -> Console:
        self.server = serve_wsgi(self, port, threads=MAX_STREAMS + 4, option="--console-port").start()
        self.url = self.server.url
        self.cloud.console_url = self.url
        self.cloud.write_runtime_file()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    # -- WSGI --
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ["REQUEST_METHOD"].upper()
        path = wsgi_path(environ)
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        try:
            self._guard(method, environ)
            if method == "GET" and path == "/api/stream":
                return self._stream(query, environ, start_response)
            response = self._dispatch(method, path, query, environ)
        except ApiError as e:
            response = _json({"error": str(e)}, e.status)
        except (PortsideError, ValueError, KeyError, TypeError) as e:
            response = _json({"error": str(e).strip("'\"")}, 400)
        response = replace(response, headers={**SECURITY_HEADERS, **response.headers})
        return send(response, start_response, head=method == "HEAD")

    def _guard(self, method: str, environ: dict[str, Any]) -> None:
        assert self.server is not None
        port = self.server.port
        host = environ.get("HTTP_HOST", "")
        if host not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            raise ApiError(403, f"the console answers only to http://127.0.0.1:{port} (Host {host!r} refused)")
        if method in ("GET", "HEAD"):
            return
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin not in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            raise ApiError(403, f"requests from {origin} are refused: only the console's own page may change things")
        if environ.get("HTTP_SEC_FETCH_SITE", "same-origin") not in ("same-origin", "none"):
            raise ApiError(403, "cross-site requests are refused")
        if not hmac.compare_digest(environ.get(TOKEN_HEADER, ""), self.token):
            raise ApiError(403, "missing or wrong X-Portside-Token: reload the console page")

    def _dispatch(self, method: str, path: str, query: dict[str, str], environ: dict[str, Any]) -> HttpResponse:
        if method in ("GET", "HEAD") and path in ("/", "/index.html"):
            return self._page()
        if method in ("GET", "HEAD") and path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        matched_path = False
        for verb, pattern, handler in self._routes:
            m = pattern.fullmatch(path)
            if m is None:
                continue
            matched_path = True
            if verb == method or (verb == "GET" and method == "HEAD"):
                body = None
                if method in ("POST", "DELETE"):
                    body = wsgi_body(environ)
                return handler(query=query, body=body, environ=environ, **m.groupdict())
        if matched_path:
            raise ApiError(405, f"{method} is not allowed on {path}")
        raise ApiError(404, f"no console page or API at {path}")

    # -- the page --
    def _page(self) -> HttpResponse:
        html = resources.files("portside.local.console").joinpath("static/index.html").read_text()
        html = html.replace("{{token}}", self.token).replace("{{app}}", _escape(self.cloud.app.name))
        return HttpResponse(200, {"content-type": "text/html; charset=utf-8"}, html.encode())

    def _static(self, name: str) -> HttpResponse:
        if not re.fullmatch(r"[\w.-]+", name) or name == "index.html":
            raise ApiError(404, f"no static file {name!r}")
        file = resources.files("portside.local.console").joinpath(f"static/{name}")
        if not file.is_file():
            raise ApiError(404, f"no static file {name!r}")
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return HttpResponse(200, {"content-type": ctype}, file.read_bytes())

    # -- what runs --
    def app_info(self, **_: Any) -> HttpResponse:
        app = self.cloud.app
        kinds = {Queue: "queue", Topic: "topic", Bucket: "bucket", Schedule: "schedule", Table: "table"}
        out: dict[str, Any] = {"name": app.name, "url": self.cloud.url, "error": self.error,
                               "functions": [], "resources": [], "routes": []}
        for fn in app.functions.values():
            t = fn.trigger
            out["functions"].append({"name": fn.name, "trigger": t.kind, "source": t.source.name})
            if isinstance(t, HttpTrigger):
                out["routes"].append({"method": t.method, "path": t.path, "function": fn.name,
                                      "example": example(fn)})
        for r in app.resources.values():
            kind = next((v for k, v in kinds.items() if isinstance(r, k)), r.kind)
            item: dict[str, Any] = {"name": r.name, "kind": kind}
            if isinstance(r, Table):
                item.update(key=r.key, sort_key=r.sort_key)
            out["resources"].append(item)
        return _json(out)

    def events(self, query: dict[str, str], **_: Any) -> HttpResponse:
        return _json(self.journal.entries(int(query.get("after") or 0), function=query.get("function") or None,
                                          resource=query.get("resource") or None, outcome=query.get("outcome") or None,
                                          limit=int(query.get("limit") or 500)))

    def _stream(self, query: dict[str, str], environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Server-sent events: every new entry as it is recorded, for up to STREAM_SECONDS."""
        after = int(environ.get("HTTP_LAST_EVENT_ID") or query.get("after") or 0)
        if not self._streams.acquire(blocking=False):
            response = _json({"error": f"{MAX_STREAMS} console streams are open already: close a tab"}, 503)
            return iter(send(response, start_response))
        start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store"),
                                  ("X-Content-Type-Options", "nosniff")])
        return _Released(self._events_after(after), self._streams.release)

    def _events_after(self, after: int) -> Iterator[bytes]:
        yield b"retry: 500\n\n"
        end = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < end and self.server is not None:
            if not self.journal.wait(after, min(1.0, end - time.monotonic())):
                yield b": keep-alive\n\n"
                continue
            for entry in self.journal.entries(after, limit=1000):
                after = entry["seq"]
                yield f"id: {after}\ndata: {json.dumps(entry, default=str)}\n\n".encode()

    def traces(self, query: dict[str, str], **_: Any) -> HttpResponse:
        return _json(self.journal.traces(int(query.get("limit") or 100)))

    def trace(self, trace_id: str, **_: Any) -> HttpResponse:
        found = self.journal.trace(trace_id)
        if found is None:
            raise ApiError(404, f"no trace {trace_id} among the last events of this run")
        return _json(found)

    def graph(self, **_: Any) -> HttpResponse:
        return HttpResponse(200, {"content-type": "image/svg+xml"}, svg(self.cloud.app).encode())

    # -- dead letters --
    def dead_letters(self, query: dict[str, str], **_: Any) -> HttpResponse:
        out = []
        for r in self.cloud.store.dead_letters(query.get("function") or None):
            try:
                summary = preview(codec.load(r.event))
            except PortsideError:
                summary = r.event[:160]
            out.append({"id": r.seq, "function": r.function, "source": r.source, "error_type": r.error_type,
                        "error": r.error, "attempts": r.attempts, "time": r.time, "preview": summary,
                        "event": codec.plain(r.event)})
        return _json(out)

    def _ids(self, body: bytes | None) -> list[int]:
        ids = json.loads(body or b"{}").get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise ApiError(400, 'send {"ids": [dead letter ids]}')
        return ids

    def redrive(self, body: bytes | None, **_: Any) -> HttpResponse:
        ids = self._ids(body)
        n = self.cloud.redrive(ids)
        if not n:
            raise ApiError(404, f"no dead letter with id {', '.join(map(str, ids))}")
        return _json({"redriven": n})

    def discard(self, body: bytes | None, **_: Any) -> HttpResponse:
        ids = self._ids(body)
        n = self.cloud.discard(ids)
        if not n:
            raise ApiError(404, f"no dead letter with id {', '.join(map(str, ids))}")
        return _json({"discarded": n})

    # -- buckets and tables --
    def bucket_list(self, name: str, query: dict[str, str], **_: Any) -> HttpResponse:
        self.cloud.bucket(name)
        prefix = query.get("prefix", "")
        rows = self.cloud.store.read("SELECT key, size, content_type, modified FROM objects WHERE bucket=? "
                                     "AND substr(key, 1, ?)=? ORDER BY key LIMIT 1000", (name, len(prefix), prefix))
        return _json([{"key": k, "size": s, "content_type": c, "modified": m} for k, s, c, m in rows])

    def object_get(self, name: str, query: dict[str, str], **_: Any) -> HttpResponse:
        key = query.get("key") or ""
        data = self.cloud.bucket(name).get(key)
        filename = quote(key.rsplit("/", 1)[-1])
        return HttpResponse(200, {"content-type": "application/octet-stream",
                                  "content-disposition": f"attachment; filename*=UTF-8''{filename}"}, data)

    def object_put(self, name: str, query: dict[str, str], body: bytes | None, environ: dict[str, Any],
                   **_: Any) -> HttpResponse:
        key = query.get("key") or ""
        what = inject(self.cloud, name, body or b"", key=key, content_type=environ.get("CONTENT_TYPE") or None)
        return _json({"stored": what}, 201)

    def object_delete(self, name: str, query: dict[str, str], **_: Any) -> HttpResponse:
        key = query.get("key") or ""
        port = self.cloud.bucket(name)
        if not port.exists(key):
            raise ApiError(404, f"bucket {name!r} has no object {key!r}")
        port.delete(key)
        return _json({"deleted": key})

    def table_items(self, name: str, query: dict[str, str], **_: Any) -> HttpResponse:
        table = self.cloud.table(name)
        resource = table.resource
        if query.get("partition", "") == "":
            return _json({"items": table.scan()[: int(query.get("limit") or 200)], "key": resource.key,
                          "sort_key": resource.sort_key})
        partition = query["partition"]  # table keys are strings on every target
        if resource.sort_key and query.get("sort", "") != "":
            item = table.get({resource.key: partition, resource.sort_key: query["sort"]})
            items = [item] if item else []
        elif not resource.sort_key:
            item = table.get({resource.key: partition})
            items = [item] if item else []
        else:
            items = table.query(partition)
        return _json({"items": items, "key": resource.key, "sort_key": resource.sort_key})

    # -- sending --
    def send_event(self, body: bytes | None, **_: Any) -> HttpResponse:
        form = json.loads(body or b"{}")
        resource = self.cloud.app.resource(str(form.get("resource", "")))
        data = str(form.get("body", "")).encode()
        attributes = {str(k): str(v) for k, v in (form.get("attributes") or {}).items()}
        trace = TraceContext.new()
        if isinstance(resource, (Queue, Topic)):
            attributes[TRACEPARENT] = trace.traceparent  # the trace starts here: its tree hangs off this send
        what = inject(self.cloud, resource.name, data, key=form.get("key") or None, ce_type=form.get("type") or None,
                      attributes=attributes or None, content_type=form.get("content_type") or None)
        return _json({"stored": what, "trace_id": trace.trace_id if isinstance(resource, (Queue, Topic)) else None})

    def send_http(self, body: bytes | None, **_: Any) -> HttpResponse:
        """Send a request to the app's own server, with a trace id the console can then show."""
        form = json.loads(body or b"{}")
        method = str(form.get("method", "GET")).upper()
        path = str(form.get("path", "/"))
        if not path.startswith("/"):
            raise ApiError(400, f"path must start with '/', got {path!r}")
        if not self.cloud.url:
            raise LocalError("the app serves no HTTP in this run")
        trace = TraceContext.new()
        headers = {str(k): str(v) for k, v in (form.get("headers") or {}).items()}
        headers[TRACEPARENT] = trace.traceparent
        data = form.get("body")
        payload = str(data).encode() if data not in (None, "") else None
        if payload is not None and not any(k.lower() == "content-type" for k in headers):
            headers["content-type"] = "application/json" if payload[:1] in (b"{", b"[") else "text/plain"
        conn = http.client.HTTPConnection(self.cloud.url.removeprefix("http://"), timeout=60)
        try:
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            status, reply_headers = resp.status, dict(resp.getheaders())
        except OSError as e:
            raise ApiError(502, f"the app's server at {self.cloud.url} did not answer: {e}") from None
        finally:
            conn.close()
        return _json({"status": status, "headers": reply_headers, "body": text.decode("utf-8", "replace"),
                      "trace_id": trace.trace_id})


class _Released:
    """A WSGI body that calls ``release`` once when the server closes it (WSGI calls ``close()`` even when
    the client left before the first chunk, when a generator's own ``finally`` would never run)."""

    def __init__(self, body: Iterator[bytes], release: Callable[[], None]) -> None:
        self._body, self._release = body, release

    def __iter__(self) -> Iterator[bytes]:
        return self._body

    def close(self) -> None:
        release, self._release = self._release, None
        self._body.close()  # type: ignore[attr-defined]
        if release is not None:
            release()


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
