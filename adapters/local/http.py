"""The app's HTTP routes on a real server bound to 127.0.0.1 (stdlib, one thread per connection).

Requests become ``HttpRequest`` events and go through ``portside.delivery.invoke``;
the answer is ``http_response`` (4xx JSON for a handler's HttpError/PermanentError,
500 without internals otherwise). Malformed requests get a 4xx naming the problem.
"""

from __future__ import annotations

import errno
import hmac
import json
import time
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # a port in use must fail, not be shared
    cloud: LocalCloud


def serve(cloud: LocalCloud, port: int) -> _Server:
    """Bind 127.0.0.1:``port`` (0 = a free one); a taken port is a one-line LocalError."""
    try:
        server = _Server(("127.0.0.1", port), _Handler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise LocalError(f"port {port} on 127.0.0.1 is already in use: stop what holds it "
                             "(`lsof -i :{port}`) or pass --port N (0 picks a free one)".replace("{port}", str(port))) from None
        if e.errno == errno.EACCES:
            raise LocalError(f"no permission to listen on port {port}: use a port above 1024 (--port 8000)") from None
        raise LocalError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    server.cloud = cloud
    return server


def _answer(status: int, message: str, **extra: Any) -> HttpResponse:
    return HttpResponse.json_body({"error": message, **extra}, status=status)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "portside-local"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the live line reports requests
        pass

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.cloud.store.release_thread()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed request lines and headers (the stdlib's checks): a JSON 4xx with the reason."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # an unparsable request line: still answer with a status line
            self.request_version = "HTTP/1.1"
        self._send(_answer(int(code), message or explain or "bad request"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # an unknown method: 405 with what is allowed, not the stdlib's 501
            return lambda: self._send(HttpResponse(405, {"allow": ", ".join(METHODS), "content-type": "application/json"},
                                                   json.dumps({"error": f"method {name[3:]!r} is not supported"}).encode()))
        raise AttributeError(name)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _body(self) -> bytes | HttpResponse:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self.close_connection = True
            return _answer(411, "chunked request bodies are not supported: send Content-Length")
        raw = self.headers.get("content-length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            return _answer(400, f"Content-Length {raw!r} is not a non-negative integer")
        if length > MAX_BODY:
            self.close_connection = True
            return _answer(413, f"body of {length} bytes is over the {MAX_BODY}-byte limit")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return _answer(400, f"body ended after {len(body)} of {length} bytes")
        return body

    def _handle(self) -> None:
        cloud = self.server.cloud
        body = self._body()
        if isinstance(body, HttpResponse):
            self._send(body)
            return
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        method = self.command.upper()
        if path.startswith("/_portside/objects/") and method in ("GET", "HEAD"):
            self._send(self._object(path, parts.query))
            return
        route = cloud.router.match(method, path)
        if isinstance(route, HttpResponse):
            self._send(route)
            return
        try:
            query = parse_qs(parts.query, keep_blank_values=True)
            request = HttpRequest(new_id(), method, path, Headers(self.headers.items()), query, body, route.params,
                                  self._cookies(), self.client_address[0], route.name, cloud.now())
        except (TypeError, ValueError, UnicodeDecodeError) as e:
            self._send(_answer(400, f"malformed request: {e}"))
            return
        outcome = invoke(route.function, cloud, request)
        response = http_response(outcome)
        self._send(response)
        cloud._report(Report(f"http {method} {path}", route.function.name, outcome, None, response.status))

    def _cookies(self) -> dict[str, str]:
        raw = self.headers.get("cookie")
        if not raw:
            return {}
        jar = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return {}
        return {k: m.value for k, m in jar.items()}

    def _object(self, path: str, query: str) -> HttpResponse:
        """A signed URL from ``bucket.signed_url``: serve the object until it expires."""
        bucket, _, key = path[len("/_portside/objects/"):].partition("/")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        try:
            until = int(args.get("expires", ""))
        except ValueError:
            return _answer(400, "signed URL needs an integer 'expires'")
        good = sign(self.server.cloud.secret, bucket, key, until)
        if not hmac.compare_digest(good, args.get("signature", "")):
            return _answer(403, "signature does not match")
        if until < time.time():
            return _answer(403, "signed URL has expired")
        cloud = self.server.cloud
        try:
            port = cloud.bucket(bucket)
            data = port.get(key)
        except (LocalError, KeyError, ValueError) as e:
            return _answer(404, str(e))
        row = cloud.store.read("SELECT content_type FROM objects WHERE bucket=? AND key=?", (bucket, key))
        ctype = (row[0][0] if row else None) or "application/octet-stream"
        return HttpResponse(200, {"content-type": ctype}, data)

    def _send(self, response: HttpResponse) -> None:
        try:
            self.send_response(response.status)
            headers = {k.lower(): v for k, v in response.headers.items()}
            for k, v in response.headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            for cookie in response.cookies:
                self.send_header("Set-Cookie", cookie)
            body = b"" if self.command == "HEAD" else response.body
            if "content-type" not in headers and response.body:
                self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
