"""The app's HTTP routes on a production-grade server bound to 127.0.0.1 (waitress).

Why waitress, measured against the stdlib server, uvicorn + starlette and granian on the same
app (``bench/http_servers.py``, docs/guides/local.md): it reads each request whole (headers, then
body) in its I/O loop before a worker thread sees it, so a slow client holds a socket, never a
thread; it runs in a thread of the runtime's process, next to the dispatcher, with no dependency
of its own; it takes a burst whole, and serves keep-alive requests many times faster than the
stdlib server and faster than uvicorn + starlette. What it is told here:

- listen backlog 1024 (the stdlib's 5 reset a burst of 64 POSTs), at most ``CONNECTIONS`` open
  connections, ``THREADS`` handler threads: a burst queues, it is not refused;
- keep-alive; a connection idle for ``IDLE_TIMEOUT`` s is closed, and so is one whose request
  (headers or body) is still incomplete after ``READ_TIMEOUT`` s, however slowly it trickles;
- bodies over 6 MB: 413; every error the server itself answers is JSON naming the problem.

Requests become ``HttpRequest`` events and go through ``portside.delivery.invoke``; the answer
is ``http_response`` (4xx JSON for a handler's HttpError/PermanentError, 500 without internals).
``serve_wsgi`` is the one server both the app and the console run on.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from portside.delivery import http_response, invoke
from portside.events import Headers, HttpRequest, HttpResponse
from portside.local import ports
from portside.local.errors import LocalError
from portside.local.ports import LocalBucket, new_id, sign
from portside.local.report import Report
from portside.routing import Router


class LocalCloud(ports.LocalCloud):
    """What the server needs of the runtime that starts it (``portside.local.runtime.LocalCloud``)."""

    router: Router

    def bucket(self, name: str) -> LocalBucket: ...

    def _report(self, report: Report) -> None: ...


MAX_BODY = 6 * 1024 * 1024  # Lambda's synchronous payload limit
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BACKLOG = 1024
THREADS = 16
CONNECTIONS = 1000
IDLE_TIMEOUT = 30.0  # seconds a keep-alive connection may sit idle
READ_TIMEOUT = 30.0  # seconds a request may take to arrive whole (headers and body)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# -- the server --------------------------------------------------------------------------------
class _Parser(HTTPRequestParser):
    """Remembers when the request's first bytes arrived (for ``READ_TIMEOUT``)."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.started = time.monotonic()


class _JsonError(ErrorTask):
    """Errors the server answers itself (bad request line, oversized body...): JSON with the reason."""

    def execute(self) -> None:
        e = self.request.error
        reason = " ".join(str(e.body).split()) or e.reason
        body = json.dumps({"error": f"{e.reason}: {reason}"}).encode()
        self.status = f"{e.code} {e.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    parser_class = _Parser
    error_task_class = _JsonError


class Server(TcpWSGIServer):
    """waitress on 127.0.0.1, in a thread of this process; ``stop()`` closes every connection."""

    channel_class = _Channel
    read_timeout = READ_TIMEOUT

    @property
    def port(self) -> int:
        return int(self.effective_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def maintenance(self, now: float) -> None:
        """Idle connections (waitress), and requests that take too long to arrive, however slowly they trickle."""
        super().maintenance(now)
        late = time.monotonic() - self.read_timeout
        for channel in list(self.active_channels.values()):
            request = channel.request
            if request is not None and not request.completed and getattr(request, "started", late) < late:
                channel.will_close = True

    def start(self) -> Server:
        self._thread = threading.Thread(target=self.run, name=f"portside-http-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        while self._map:
            for dispatcher in list(self._map.values()):
                try:
                    dispatcher.handle_close()
                except OSError:
                    pass
        self.task_dispatcher.shutdown(timeout=5)
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join(timeout=5)


def serve_wsgi(app: WsgiApp, port: int, *, threads: int = THREADS, option: str = "--port") -> Server:
    """Bind 127.0.0.1:``port`` (0 = a free one) and serve ``app``; a taken port is a one-line LocalError."""
    adj = Adjustments(host="127.0.0.1", port=port, threads=threads, backlog=BACKLOG, connection_limit=CONNECTIONS,
                      channel_timeout=IDLE_TIMEOUT, cleanup_interval=1, max_request_body_size=MAX_BODY,
                      ident="portside-local", expose_tracebacks=False, asyncore_use_poll=True)
    try:
        server = Server(app, map={}, adj=adj)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise LocalError(f"port {port} on 127.0.0.1 is already in use: stop what holds it "
                             f"(`lsof -i :{port}`) or pass {option} N (0 picks a free one)") from None
        if e.errno == errno.EACCES:
            raise LocalError(f"no permission to listen on port {port}: use a port above 1024 ({option} N)") from None
        raise LocalError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    server.logger.disabled = True  # a client that hangs up is not the user's problem
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth": a burst queues, by design
    return server


def serve(cloud: LocalCloud, port: int) -> Server:
    """The app's routes on 127.0.0.1:``port`` (a fixed pool of handler threads, each with its SQLite connection)."""
    return serve_wsgi(Routes(cloud), port)


# -- the app's routes as a WSGI application ---------------------------------------------------
def _answer(status: int, message: str, **extra: Any) -> HttpResponse:
    return HttpResponse.json_body({"error": message, **extra}, status=status)


def wsgi_path(environ: dict[str, Any]) -> str:
    """The request path, percent-decoded as UTF-8 (WSGI hands it over decoded as latin-1)."""
    return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace") or "/"


def wsgi_headers(environ: dict[str, Any]) -> Headers:
    pairs = [(k[5:].replace("_", "-").lower(), v) for k, v in environ.items() if k.startswith("HTTP_")]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            pairs.append((key.replace("_", "-").lower(), environ[key]))
    return Headers(pairs)


def wsgi_body(environ: dict[str, Any]) -> bytes:
    """The whole body (waitress has read it, chunked or not, before the application runs)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length > 0 else b""


def send(response: HttpResponse, start_response: Callable[..., Any], head: bool = False) -> list[bytes]:
    """Hand ``response`` to the WSGI server (its cookies as Set-Cookie headers, Content-Length set)."""
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Status"
    headers = [(k, v) for k, v in response.headers.items()
               if k.lower() not in ("content-length", "connection", "transfer-encoding")]
    if response.body and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/octet-stream"))
    headers += [("Set-Cookie", c) for c in response.cookies]
    headers.append(("Content-Length", str(len(response.body))))
    start_response(f"{response.status} {phrase}", headers)
    return [] if head else [response.body]


class Routes:
    """The app's routes: each request an ``HttpRequest`` through ``portside.delivery.invoke``."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        response, report = self.respond(method, environ)
        out = send(response, start_response, head=method == "HEAD")
        if report is not None:
            self.cloud._report(report)
        return out

    def respond(self, method: str, environ: dict[str, Any]) -> tuple[HttpResponse, Report | None]:
        cloud = self.cloud
        if method not in METHODS:  # 405 with what is allowed
            return HttpResponse(405, {"allow": ", ".join(METHODS), "content-type": "application/json"},
                                json.dumps({"error": f"method {method!r} is not supported"}).encode()), None
        path = wsgi_path(environ)
        query_text = environ.get("QUERY_STRING", "")
        if path.startswith("/_portside/objects/") and method in ("GET", "HEAD"):
            return self._object(path, query_text), None
        route = cloud.router.match(method, path)
        if isinstance(route, HttpResponse):
            return route, None
        try:
            headers = wsgi_headers(environ)
            request = HttpRequest(new_id(), method, path, headers, parse_qs(query_text, keep_blank_values=True),
                                  wsgi_body(environ), route.params, _cookies(headers.get("cookie")),
                                  environ.get("REMOTE_ADDR", ""), route.name, cloud.now())
        except (TypeError, ValueError, UnicodeDecodeError) as e:
            return _answer(400, f"malformed request: {e}"), None
        outcome = invoke(route.function, cloud, request)
        response = http_response(outcome)
        return response, Report(f"http {method} {path}", route.function.name, outcome, None, response.status)

    def _object(self, path: str, query: str) -> HttpResponse:
        """A signed URL from ``bucket.signed_url``: serve the object until it expires."""
        bucket, _, key = path[len("/_portside/objects/"):].partition("/")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            until = int(args.get("expires", ""))
        except ValueError:
            return _answer(400, "signed URL needs an integer 'expires'")
        cloud = self.cloud
        good = sign(cloud.secret, bucket, key, until)
        if not hmac.compare_digest(good, args.get("signature", "")):
            return _answer(403, "signature does not match")
        if until < time.time():
            return _answer(403, "signed URL has expired")
        try:
            data = cloud.bucket(bucket).get(key)
        except (LocalError, KeyError, ValueError) as e:
            return _answer(404, str(e))
        row = cloud.store.read("SELECT content_type FROM objects WHERE bucket=? AND key=?", (bucket, key))
        ctype = (row[0][0] if row else None) or "application/octet-stream"
        return HttpResponse(200, {"content-type": ctype}, data)


def _cookies(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


__all__ = ["MAX_BODY", "Routes", "Server", "serve", "serve_wsgi", "send"]
