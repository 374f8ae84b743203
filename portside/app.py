"""The application: the registry of declarations that infra, the local runtime and the fake cloud read.

    app = App("shop")                       # targets aws and gcp; App("shop", clouds="aws") one
    uploads = app.bucket("uploads")
    thumbnails = app.bucket("thumbnails")
    make_thumbnail = app.function("shop.thumbnails:make_thumbnail",
                                  trigger=uploads.on_created(suffix=".png"), uses=[thumbnails.writer])

Handlers are named by import path, never by closure, so declaring an app imports no
handler code and a deployed function imports only its own module. Each declaration is checked
as it is made against the clouds the app targets (``portside.checks``): what a cloud would
refuse fails here, with the message ``python -m portside.infra.plan`` gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from portside.declarations import (
    Api,
    Function,
    HttpTrigger,
    QueueTrigger,
    Resource,
    Schedule,
    Trigger,
    Use,
    check_name,
)
from portside.errors import DeclarationError
from portside.handles import Bucket, Queue, Table, Topic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    R = TypeVar("R", bound=Resource)

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class App:
    """Every resource and function of one application, checked as it is declared.

    ``clouds`` names the clouds the app targets ("aws", "gcp", both by default, or none for an
    app that only runs locally): declarations and port calls are held to their limits.
    """

    def __init__(self, name: str, *, clouds: str | Iterable[str] | None = None) -> None:
        self.name = check_name("app", name)
        from portside.capabilities import clouds_of  # here: importing the module alone (an entry) needs none

        try:
            self.clouds: tuple[str, ...] = tuple(c.name for c in clouds_of(clouds))
        except ValueError as e:
            raise DeclarationError(f"app {name!r}: {e}") from None
        self.resources: dict[str, Resource] = {}
        self.functions: dict[str, Function] = {}

    # -- resources --
    def add(self, resource: R) -> R:
        if resource.name in self.resources:
            raise DeclarationError(
                f"{resource.kind} {resource.name!r}: the name is already used by "
                f"{self.resources[resource.name]!r}; resource names are unique within an app"
            )
        if resource.app is not None and resource.app is not self:
            raise DeclarationError(f"{resource!r} already belongs to app {resource.app.name!r}")
        from portside.checks import declared

        declared(self, resource)
        resource.app = self
        self.resources[resource.name] = resource
        return resource

    def bucket(self, name: str) -> Bucket:
        return self.add(Bucket(name))

    def queue(self, name: str, *, fifo: bool = False) -> Queue:
        return self.add(Queue(name, fifo=fifo))

    def topic(self, name: str) -> Topic:
        return self.add(Topic(name))

    def table(self, name: str, *, key: str = "id", sort_key: str | None = None, ttl: str | None = None) -> Table:
        return self.add(Table(name, key=key, sort_key=sort_key, ttl=ttl))

    def api(self, name: str) -> Api:
        return self.add(Api(name))

    def schedule(self, name: str, *, cron: str | None = None, rate: str | None = None) -> Schedule:
        return self.add(Schedule(name, cron=cron, rate=rate))

    # -- functions --
    def function(self, handler: str, *, trigger: Trigger, uses: Iterable[Use | Iterable[Use]] = (),
                 name: str | None = None, timeout: int = 30, memory: int = 256,
                 concurrency: int | None = None) -> Function:
        """Bind the handler at ``handler`` ("module:function") to ``trigger``; the returned
        ``Function`` is the handle tests pass to the test client (``cloud.invocations(fn)``)."""
        if not isinstance(handler, str) or not _TARGET.match(handler):
            raise DeclarationError(f"handler must be 'package.module:function', got {handler!r}")
        fname = name or handler.rpartition(":")[2].replace("_", "-")
        check_name("function", fname)
        if fname in self.functions:
            raise DeclarationError(f"function {fname!r} is declared twice; pass name= to tell them apart")
        if not isinstance(trigger, Trigger):
            raise DeclarationError(f"function {fname!r}: trigger must come from a resource, e.g. "
                                   f"queue.on_message(), got {trigger!r}")
        self._known(trigger.source, f"function {fname!r} trigger")
        flat: list[Use] = []
        for u in uses:
            for one in (u,) if isinstance(u, Use) else u:
                if not isinstance(one, Use):
                    raise DeclarationError(
                        f"function {fname!r}: uses must be resource accesses like bucket.writer, got {one!r}"
                    )
                self._known(one.resource, f"function {fname!r} uses")
                flat.append(one)
        if type(timeout) is not int or not 1 <= timeout <= 3600:
            raise DeclarationError(f"function {fname!r}: timeout must be whole seconds from 1 to 3600, got {timeout!r}")
        if type(memory) is not int or not 128 <= memory <= 32768:
            raise DeclarationError(f"function {fname!r}: memory must be MB from 128 to 32768, got {memory!r}")
        if concurrency is not None and (type(concurrency) is not int or concurrency < 1):
            raise DeclarationError(f"function {fname!r}: concurrency must be an int >= 1, got {concurrency!r}")
        if isinstance(trigger, QueueTrigger):
            taken = [f.name for f in self.consumers(trigger.source)]
            if taken:
                raise DeclarationError(
                    f"queue {trigger.source.name!r} already has consumer {taken[0]!r}: a queue has one "
                    "consumer; use a topic to fan out"
                )
        if isinstance(trigger, HttpTrigger):
            for other in self.functions.values():
                t = other.trigger
                if isinstance(t, HttpTrigger) and t.source is trigger.source and \
                        (t.method, t.path) == (trigger.method, trigger.path):
                    raise DeclarationError(f"route {t.method} {t.path} is already served by {other.name!r}")
        fn = Function(fname, handler, trigger, tuple(dict.fromkeys(flat)), timeout, memory, concurrency)
        from portside.checks import declared

        declared(self, fn)
        self.functions[fname] = fn
        return fn

    def _known(self, resource: object, where: str) -> None:
        if not isinstance(resource, Resource) or self.resources.get(resource.name) is not resource:
            raise DeclarationError(
                f"{where}: unknown resource {resource!r}; declare it on app {self.name!r} first "
                f"(known: {sorted(self.resources)})"
            )

    # -- reading the declaration --
    def of_kind(self, kind: type[R]) -> list[R]:
        return [r for r in self.resources.values() if isinstance(r, kind)]

    def consumers(self, source: Resource) -> Iterator[Function]:
        """Functions triggered by ``source``, in declaration order."""
        return (f for f in self.functions.values() if f.trigger.source is source)

    def resource(self, name: str) -> Resource:
        try:
            return self.resources[name]
        except KeyError:
            raise DeclarationError(f"app {self.name!r} has no resource {name!r} (known: {sorted(self.resources)})") from None

    def get_function(self, name: str) -> Function:
        try:
            return self.functions[name]
        except KeyError:
            raise DeclarationError(f"app {self.name!r} has no function {name!r} (known: {sorted(self.functions)})") from None


def load_app(spec: str | None = None) -> App:
    """Import ``module:attribute`` (default: the current project's app) and return the ``App`` it names."""
    if spec is None:
        from portside.project import app_spec

        spec = app_spec()
    from importlib import import_module

    module_name, _, attr = spec.partition(":")
    try:
        module = import_module(module_name)
    except Exception as e:
        raise DeclarationError(f"cannot import app module {module_name!r}: {type(e).__name__}: {e}") from e
    app = getattr(module, attr or "app", None)
    if not isinstance(app, App):
        raise DeclarationError(f"{spec!r} is not a portside App (got {type(app).__name__})")
    return app
