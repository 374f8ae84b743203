"""HTTP routing, the same on every target: which declared function serves a request, or 404/405.

The fake cloud and the local server route over all of an app's routes; a deployed function
(Cloud Functions, a Lambda Function URL) routes over its own one, so a request for another
path gets the same 404 it would get locally.
"""

from __future__ import annotations

from collections.abc import Iterable

from portside.declarations import Function, HttpTrigger
from portside.events import HttpResponse
from portside.record import Record, setfield


class Route(Record):
    """A request matched to the function that serves it."""

    __slots__ = ("function", "params")
    function: Function
    params: dict[str, str]  # path parameters, e.g. {"id": "i-1"} for /items/{id}

    def __init__(self, function: Function, params: dict[str, str]) -> None:
        setfield(self, "function", function)
        setfield(self, "params", params)

    @property
    def name(self) -> str:
        """The declared route, e.g. ``"GET /items/{id}"`` (``HttpRequest.route``)."""
        t = self.function.trigger
        return f"{t.method} {t.path}"  # type: ignore[attr-defined]


class Router:
    """The HTTP routes of some functions (those with other triggers are ignored)."""

    def __init__(self, functions: Iterable[Function]) -> None:
        self.functions = [f for f in functions if isinstance(f.trigger, HttpTrigger)]

    def match(self, method: str, path: str) -> Route | HttpResponse:
        """The route serving ``method path``, else the answer: 405 with ``Allow`` when the path
        exists for other methods, 404 listing the routes otherwise (both JSON)."""
        allowed: list[str] = []
        for fn in self.functions:
            trigger: HttpTrigger = fn.trigger  # type: ignore[assignment]
            params = trigger.match(method, path)
            if params is not None:
                return Route(fn, params)
            if trigger.match(trigger.method, path) is not None:
                allowed.append(trigger.method)
        if allowed:
            methods = ", ".join(sorted(set(allowed)))
            return HttpResponse.json_body({"error": f"{method.upper()} is not allowed on {path}; allowed: {methods}"},
                                          405, {"allow": methods})
        routes = sorted(f"{f.trigger.method} {f.trigger.path}" for f in self.functions)  # type: ignore[attr-defined]
        return HttpResponse.json_body({"error": f"no route for {method.upper()} {path}", "routes": routes}, 404)
