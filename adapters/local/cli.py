"""The ``portside`` command: run the app locally and look inside it.

    portside dev                          # run the project's app: HTTP, console, hot reload, a line per event
    portside invoke POST /contact -d @form.json
    portside emit contact-jobs '{"...": "..."}'     # a queue, topic, bucket (--key) or schedule
    portside dlq list / redrive ID... / discard ID...
    portside table get|query|scan TABLE ...;  portside bucket ls|get|rm BUCKET ...;  portside topic tail TOPIC
    portside graph > flow.mmd             # the event flow as a Mermaid flowchart

Every command works from any folder of the project: the project is the nearest ``pyproject.toml``
with ``[tool.portside]`` (``portside.project``), its data lives in ``<project>/.portside``, and
the app is the one the running runtime recorded there, else the project's. ``--app`` and
``--data-dir`` (env ``PORTSIDE_APP``, ``PORTSIDE_DATA_DIR``) override. Only ``dev`` creates a data
directory. A problem, a usage error included, is one line on stderr and a non-zero exit; so is a
command that finds nothing to act on (``dlq redrive 999``, ``table get`` of a missing item).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from portside.declarations import HttpTrigger
from portside.errors import PortsideError, UnsupportedEvent
from portside.local import codec
from portside.local.flow import mermaid

DEFAULT_DIR = ".portside"
__all__ = ["cli", "main", "mermaid", "try_line"]


def _fail(message: str) -> None:
    """One line on stderr, exit status 1."""
    raise click.ClickException(message)


def _explain(error: Exception) -> str:
    """The error's first line, plus what to do when a module does not import."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    m = re.search(r"cannot import (?:handler|app) module '([\w.]+)'", text)
    if m:
        text += f" (fix it, then retry; `python -c 'import {m.group(1)}'` shows the traceback)"
    return text


def _out() -> Callable[[str], None]:
    """Rich markup on a terminal, plain lines (markup stripped) when piped or captured."""
    if sys.stdout.isatty():
        try:
            from rich.console import Console

            console = Console(highlight=False)
            return console.print
        except ImportError:
            pass

    return lambda text: click.echo(re.sub(r"(?<!\\)\[/?(?:dim|bold|bold cyan|green|yellow|red)\]", "", text).replace("\\[", "["))


def esc(text: object) -> str:
    """User text inside a rich markup line: a literal '[' (rich reads '\\[' as one; the plain printer undoes it)."""
    return str(text).replace("[", "\\[")


# -- where: the project, its data dir, the app ---------------------------------------------------
@dataclass(frozen=True)
class Where:
    app: str  # module:attribute
    data_dir: Path
    root: Path  # the project's folder (or the working directory outside a project)


def _where(app: str | None, data_dir: str | None, *, create: bool = False, need_app: bool = True) -> Where:
    """The app and data dir to use: the options', else the running runtime's record, else the project's.
    Only ``dev`` may ``create`` the data dir: elsewhere a missing one is an error, never a second, empty one."""
    from portside import project
    from portside.local.runtime import running

    try:
        found = project.find()
    except PortsideError as e:
        _fail(_explain(e))
    if found is not None:
        found.importable()
    elif os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    root = found.root if found is not None else Path.cwd()
    path = Path(data_dir) if data_dir else found.data_dir if found is not None else Path(DEFAULT_DIR)
    if not create and not path.is_dir():
        where = "" if found is None else f" of project {found.root}"
        _fail(f"no data directory at {str(path)!r}{where}: start the app with `portside dev` first, "
              "or pass --data-dir DIR" + ("" if found else " (or run the command inside your project)"))
    if app is None:
        record = running(path) if path.is_dir() else None
        app = (record or {}).get("spec") or (found.app if found is not None else None)
    if app is None and need_app:
        _fail(f"{os.getcwd()} is not inside a portside project (no pyproject.toml with [tool.portside]): "
              "run the command in your project, or pass --app module:attribute")
    return Where(app or "", path, root)


def _cloud(where: Where, **kw: Any) -> Any:
    from portside.local.runtime import LocalCloud

    try:
        return LocalCloud(where.app, where.data_dir, **kw)
    except PortsideError as e:
        _fail(_explain(e))


class _Client:
    """A LocalCloud on the data dir for one command, closed after it; PortsideErrors become one line."""

    def __init__(self, app: str | None, data_dir: str | None) -> None:
        self.where = _where(app, data_dir)
        self.cloud = _cloud(self.where)

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: object) -> bool:
        self.cloud.store.close()
        if isinstance(error, (PortsideError, ValueError, TypeError)) and not isinstance(error, click.ClickException):
            _fail(_explain(error))  # type: ignore[arg-type]
        return False


_app_option = click.option("--app", "app_spec", default=None, envvar="PORTSIDE_APP",
                           help="The App, as module:attribute (default: the running one's, else the project's).")
_dir_option = click.option("--data-dir", default=None, envvar="PORTSIDE_DATA_DIR",
                           type=click.Path(file_okay=False), help="Where queues, tables and buckets live "
                           "(default: .portside in the project).")


class _Group(click.Group):
    """Usage errors on one line too: ``Error: No such option: --nope (`portside emit --help`)``."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx else "portside"
            click.echo(f"Error: {e.format_message().rstrip('.')} (`{where} --help` shows the usage)", err=True)
            sys.exit(2)
        except click.ClickException as e:
            click.echo(f"Error: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Error: aborted", err=True)
            sys.exit(1)


@click.group("portside", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portside", prog_name="portside", message="%(prog)s %(version)s")
def cli() -> None:
    """portside: write an event-driven app once; run it locally, on AWS or on Google Cloud."""


# -- dev ---------------------------------------------------------------------------------------
def _line(report: Any, timeout: float | None = None) -> str:
    """`source -> handler -> outcome (attempt, duration)` for one finished invocation."""
    o = report.outcome
    ms = f"{o.seconds * 1000:.1f} ms"
    if timeout is not None and o.seconds > timeout:  # not enforced locally: say what the cloud would do
        ms += f", [yellow]over its {timeout:g} s timeout: the cloud would stop it[/yellow]"
    stamp = datetime.now().strftime("%H:%M:%S")
    head = f"[dim]{stamp}[/dim] {esc(report.source)} -> [bold]{report.function}[/bold] ->"
    if report.status is not None:
        colour = "green" if report.status < 400 else "yellow" if report.status < 500 else "red"
        return f"{head} [{colour}]{report.status}[/{colour}] ({ms})"
    action = report.decision.action.value if report.decision else "ok"
    if o.ok:
        return f"{head} [green]ok[/green] (attempt {o.attempt}, {ms})"
    why = esc(f"{type(o.error).__name__}: {str(o.error).splitlines()[0] if str(o.error) else ''}")
    if action == "retry":
        return f"{head} [yellow]retry in {report.decision.delay:g}s[/yellow] (attempt {o.attempt}, {ms}) {why}"
    return f"{head} [red]{action}[/red] (attempt {o.attempt}, {ms}) {why}"


def try_line(app: Any, url: str) -> str:
    """A copy-paste curl line: the first POST route whose handler documents an example body (its
    docstring's first JSON object), else the first POST route, else the first route."""
    from portside.local.inject import example

    fns = [f for f in app.functions.values() if isinstance(f.trigger, HttpTrigger)]
    if not fns:
        return ""
    posts = [f for f in fns if f.trigger.method == "POST" and "{" not in f.trigger.path]
    documented = [(f, body) for f in posts if (body := example(f))]
    fn, body = documented[0] if documented else ((posts or fns)[0], "")
    route = fn.trigger
    path = route.path.replace("{", "").replace("}", "")
    if route.method in ("GET", "ANY"):
        return f"curl -sS {url}{path}"
    return f"curl -sS -X {route.method} {url}{path} -H 'content-type: application/json' -d {shlex.quote(body or '{}')}"


@cli.command()
@_app_option
@_dir_option
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="The app's HTTP port on 127.0.0.1 (0 picks a free one).")
@click.option("--console-port", type=click.IntRange(0, 65535), default=None,
              help="The console's port on 127.0.0.1 (default: --port + 1; 0 picks a free one).")
@click.option("--no-console", is_flag=True, help="Serve no console.")
@click.option("--no-reload", is_flag=True, help="Do not restart the workers when a source file changes.")
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads: a slow handler holds one, not the whole runtime.")
@click.option("--quiet", is_flag=True, help="No live line per event.")
def dev(app_spec: str | None, data_dir: str | None, port: int, console_port: int | None, no_console: bool,
        no_reload: bool, workers: int, quiet: bool) -> None:
    """Run the app on this machine: HTTP and the console on 127.0.0.1, durable queues and tables, hot reload."""
    logging.basicConfig(level=logging.WARNING, format="  %(levelname)s %(name)s: %(message)s")
    quiet_log = logging.getLogger("portside")
    level = quiet_log.level
    quiet_log.setLevel(logging.ERROR)  # the live line already says what failed
    try:
        _dev(app_spec, data_dir, port, console_port, no_console, no_reload, workers, quiet)
    finally:
        quiet_log.setLevel(level)  # (a test may run this command in its own process)


def _dev(app_spec: str | None, data_dir: str | None, port: int, console_port: int | None, no_console: bool,
         no_reload: bool, workers: int, quiet: bool) -> None:
    out = _out()
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            out(line)
            sys.stdout.flush()

    def report(r: Any) -> None:
        fn = cloud.app.functions.get(r.function)
        say(_line(r, fn.timeout if fn else None))

    if app_spec is None and data_dir is None:
        from portside import project

        found = project.find()
        app_spec = found.app if found is not None else None  # dev runs the project's app, not a record's
    where = _where(app_spec, data_dir, create=True)
    cloud = _cloud(where, workers=workers, on_report=None if quiet else report)
    console = reloader = None
    try:
        if not no_console:
            from portside.local.console import Console

            console = Console(cloud)
        cloud.start(port)
        if console is not None:
            console.start(console_port if console_port is not None else (port + 1 if port else 0))
    except PortsideError as e:
        cloud.stop()
        _fail(_explain(e))
    if not no_reload:
        reloader = _reloader(cloud, where, console, say)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    n_http = sum(isinstance(f.trigger, HttpTrigger) for f in cloud.app.functions.values())
    shown = os.path.relpath(where.data_dir)
    say(f"[bold]portside dev[/bold]: app {cloud.app.name!r} ({len(cloud.app.functions)} functions, "
        f"{n_http} routes) from {where.app}, data in {where.data_dir if shown.startswith('..') else shown}")
    say(f"  HTTP     [bold cyan]{cloud.url}[/bold cyan]")
    if console is not None:
        say(f"  console  [bold cyan]{console.url}[/bold cyan]")
    line = try_line(cloud.app, cloud.url)
    if line:
        say(f"  try      {esc(line)}")
    say("  " + ("hot reload on: edit a handler or the app, the workers restart on it; " if reloader else "")
        + "Ctrl-C to stop.")
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if reloader is not None:
            reloader.stop()
        if console is not None:
            console.stop()
        cloud.stop()
    say("stopped; accepted events not yet handled are kept in the data dir for the next run.")


def _reloader(cloud: Any, where: Where, console: Any, say: Callable[[str], None]) -> Any:
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        say("  [yellow]hot reload off: install portside[local] (watchfiles) to have it[/yellow]")
        return None
    from portside.local.reload import Reloader

    def changed(ok: bool, text: str) -> None:
        if console is not None:
            console.error = None if ok else text
        say(f"[green]{esc(text)}[/green]" if ok else
            f"[red]reload failed, the previous version keeps running: {esc(text)}[/red]")

    return Reloader(cloud, where.app, where.root, changed).start()


# -- invoke / emit -----------------------------------------------------------------------------
def _data(value: str | None) -> bytes:
    """A literal, ``@file`` or ``-`` (stdin)."""
    if value is None:
        return b""
    if value == "-":
        return sys.stdin.buffer.read()
    if value.startswith("@"):
        try:
            return Path(value[1:]).read_bytes()
        except OSError as e:
            _fail(f"cannot read {value[1:]!r}: {e.strerror or e}")
    return value.encode()


def _running(where: Where, what: str) -> dict[str, Any]:
    from portside.local.runtime import running

    info = running(where.data_dir)
    if not info or not info.get(what):
        serves = {"url": "HTTP", "console": "a console"}[what]
        _fail(f"no portside runtime is serving {serves} on data dir {str(where.data_dir)!r}: start one with "
              f"`portside dev`" + (" (without --no-console)" if what == "console" and info else ""))
    return info


@cli.command()
@_dir_option
@click.argument("method")
@click.argument("path")
@click.option("-d", "--data", help="Request body: text, @file, or - for stdin.")
@click.option("-H", "--header", "headers", multiple=True, help="A header, 'name: value' (repeatable).")
def invoke(data_dir: str | None, method: str, path: str, data: str | None, headers: tuple[str, ...]) -> None:
    """Send an HTTP request to the running app, e.g. `portside invoke GET /orders/o-1`."""
    url = str(_running(_where(None, data_dir, need_app=False), "url")["url"])
    if not path.startswith("/"):
        _fail(f"path must start with '/', got {path!r}")
    body = _data(data) if data is not None else None
    req = urllib.request.Request(url + path, data=body, method=method.upper())
    if body is not None:
        req.add_header("content-type", "application/json" if body[:1] in (b"{", b"[") else "text/plain")
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            _fail(f"header {h!r} must look like 'name: value'")
        req.add_header(name.strip(), value.strip())
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    except OSError as e:
        _fail(f"cannot reach the runtime at {url}: {e}; is `portside dev` still running?")
    click.echo(f"{status}")
    if text:
        click.echo(text.decode("utf-8", "replace"))
    if status >= 400:
        sys.exit(1)


def _attrs(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep or not k:
            _fail(f"attribute {p!r} must look like name=value")
        out[k] = v
    return out


def _later(where: Where) -> str:
    from portside.local.runtime import running

    who = running(where.data_dir)
    return f"runtime pid {who['pid']} delivers it" if who else "no runtime is running: `portside dev` delivers it"


@cli.command()
@_app_option
@_dir_option
@click.argument("resource")
@click.argument("data", required=False)
@click.option("--key", help="Buckets: the object key (default: the file's name for @file).")
@click.option("--type", "ce_type", help="Topics: publish a CloudEvent of this type with DATA (JSON) as its data.")
@click.option("--attr", "attrs", multiple=True, help="Queues and topics: a message attribute name=value (repeatable).")
@click.option("--content-type", help="Buckets: the object's content type.")
def emit(app_spec: str | None, data_dir: str | None, resource: str, data: str | None, key: str | None,
         ce_type: str | None, attrs: tuple[str, ...], content_type: str | None) -> None:
    """Send an event into the app: a message to a queue or topic, an upload to a bucket, a schedule tick.

    DATA is text, @file or - (stdin). The event is stored durably in the data dir; the running
    runtime (or the next `portside dev`) delivers it.
    """
    from portside.declarations import Bucket
    from portside.local.inject import inject

    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        res = cloud.app.resource(resource)
        if isinstance(res, Bucket) and not key and data and data.startswith("@"):
            key = Path(data[1:]).name
        what = inject(cloud, resource, _data(data), key=key, ce_type=ce_type, attributes=_attrs(attrs) or None,
                      content_type=content_type)
    click.echo(f"stored {what}; {_later(client.where)}")


# -- dlq ---------------------------------------------------------------------------------------
@cli.group(cls=click.Group)
def dlq() -> None:
    """Inspect, replay or discard dead letters (events that failed for good, with their error)."""


@dlq.command("list")
@_app_option
@_dir_option
@click.option("--function", help="Only this function's dead letters.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def dlq_list(app_spec: str | None, data_dir: str | None, function: str | None, as_json: bool) -> None:
    """List dead letters: id, function, source, attempts, error, and the event."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        if function:
            cloud.app.get_function(function)  # a name the app does not have is an error, not an empty list
        rows = cloud.store.dead_letters(function)
    if as_json:
        for r in rows:
            click.echo(json.dumps({"id": r.seq, "function": r.function, "source": r.source, "attempts": r.attempts,
                                   "error_type": r.error_type, "error": r.error, "time": r.time,
                                   "event": codec.plain(r.event)}))
        return
    if not rows:
        click.echo("no dead letters" + (f" for {function}" if function else ""))
        return
    out = _out()
    for r in rows:
        when = datetime.fromtimestamp(r.time).strftime("%Y-%m-%d %H:%M:%S")
        kind, event_id, text = _preview(r.event)
        out(f"[bold]#{r.seq}[/bold] {when} {esc(r.source)} -> {r.function}: [red]{r.error_type}[/red]: {esc(r.error)} "
            f"(after {r.attempts} attempt{'s' if r.attempts != 1 else ''})")
        out(f"     {kind} {esc(event_id)}: {esc(text)}")
    click.echo(f"{len(rows)} dead letter(s); replay with `portside dlq redrive ID...`, `--function NAME` or `--all`")


def _preview(stored: str) -> tuple[str, str, str]:
    """Kind, id and a one-line preview of a stored event (the row itself if it is unreadable)."""
    from portside.local.report import preview

    try:
        event = codec.load(stored)
    except UnsupportedEvent:
        return "unreadable", "?", stored[:117] + "..." if len(stored) > 120 else stored
    return type(event).__name__, event.id, preview(event, 120)


def _missing(asked: tuple[int, ...], existing: set[int]) -> str:
    gone = [f"#{i}" for i in asked if i not in existing]
    return f"no dead letter {', '.join(gone)} (`portside dlq list` shows their ids)" if gone else ""


@dlq.command("redrive")
@_app_option
@_dir_option
@click.argument("ids", nargs=-1, type=int)
@click.option("--function", help="Every dead letter of this function.")
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
def dlq_redrive(app_spec: str | None, data_dir: str | None, ids: tuple[int, ...], function: str | None,
                everything: bool) -> None:
    """Send dead letters back to their function, attempts reset."""
    if not ids and not function and not everything:
        _fail("say which dead letters to redrive: IDs (from `portside dlq list`), --function NAME or --all")
    if ids and everything:
        _fail("give IDs or --all, not both")
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        if function:
            cloud.app.get_function(function)
        existing = {r.seq for r in cloud.store.dead_letters(function)}
        n = cloud.redrive(list(ids) or None, function)
    missing = _missing(ids, existing)
    if n:
        from portside.local.runtime import running

        click.echo(f"redrove {n} dead letter(s)" + ("" if running(client.where.data_dir) else
                                                     "; `portside dev` delivers them"))
    if missing:
        _fail(missing)
    if not n:
        _fail("no dead letters to redrive" + (f" for {function}" if function else ""))


@dlq.command("discard")
@_app_option
@_dir_option
@click.argument("ids", nargs=-1, type=int, required=True)
def dlq_discard(app_spec: str | None, data_dir: str | None, ids: tuple[int, ...]) -> None:
    """Delete dead letters for good."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        existing = {r.seq for r in cloud.store.dead_letters()}
        n = cloud.discard(list(ids))
    if n:
        click.echo(f"discarded {n} dead letter(s)")
    if _missing(ids, existing):
        _fail(_missing(ids, existing))


# -- table / bucket / topic ----------------------------------------------------------------------
@cli.group(cls=click.Group)
def table() -> None:
    """Read a table: get one item, query a partition, scan it all."""


def _echo_items(items: list[dict[str, Any]], nothing: str) -> None:
    if not items:
        _fail(nothing)
    for item in items:
        click.echo(json.dumps(item, ensure_ascii=False))


@table.command("get")
@_app_option
@_dir_option
@click.argument("name")
@click.argument("key")
@click.argument("sort", required=False)
def table_get(app_spec: str | None, data_dir: str | None, name: str, key: str, sort: str | None) -> None:
    """Print the item with this key (and sort key) as JSON (table keys are strings on every target)."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        port = cloud.table(name)
        t = port.resource
        if t.sort_key and sort is None:
            _fail(f"table {name!r} has a sort key ({t.sort_key}): give it too, or use `portside table query`")
        if not t.sort_key and sort is not None:
            _fail(f"table {name!r} has no sort key: give only its key ({t.key})")
        item_key = {t.key: key, **({t.sort_key: sort} if t.sort_key and sort is not None else {})}
        item = port.get(item_key)
    _echo_items([item] if item else [], f"table {name!r} has no item {json.dumps(item_key)}")


@table.command("query")
@_app_option
@_dir_option
@click.argument("name")
@click.argument("key")
@click.option("--limit", type=click.IntRange(1), help="At most this many items.")
def table_query(app_spec: str | None, data_dir: str | None, name: str, key: str, limit: int | None) -> None:
    """Print the items of one partition (in sort key order), one JSON object a line."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        port = cloud.table(name)
        items = port.query(key, limit)
    _echo_items(items, f"table {name!r} has no item with {port.resource.key}={json.dumps(key)}")


@table.command("scan")
@_app_option
@_dir_option
@click.argument("name")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
def table_scan(app_spec: str | None, data_dir: str | None, name: str, limit: int) -> None:
    """Print the table's items, one JSON object a line."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        items = cloud.table(name).scan()[:limit]
    _echo_items(items, f"table {name!r} is empty")


@cli.group(cls=click.Group)
def bucket() -> None:
    """List, download or delete objects."""


@bucket.command("ls")
@_app_option
@_dir_option
@click.argument("name")
@click.argument("prefix", default="")
def bucket_ls(app_spec: str | None, data_dir: str | None, name: str, prefix: str) -> None:
    """List objects (size, content type, key), under PREFIX if given."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        cloud.bucket(name)
        rows = cloud.store.read("SELECT key, size, content_type FROM objects WHERE bucket=? AND substr(key, 1, ?)=? "
                                "ORDER BY key", (name, len(prefix), prefix))
    if not rows:
        _fail(f"bucket {name!r} has no object" + (f" under {prefix!r}" if prefix else ""))
    for key, size, ctype in rows:
        click.echo(f"{size:>10}  {ctype or '-':<24}  {key}")


@bucket.command("get")
@_app_option
@_dir_option
@click.argument("name")
@click.argument("key")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
def bucket_get(app_spec: str | None, data_dir: str | None, name: str, key: str, output: str | None) -> None:
    """Write an object's bytes to stdout or a file."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        data = cloud.bucket(name).get(key)
    if output:
        Path(output).write_bytes(data)
        click.echo(f"wrote {len(data)} bytes to {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@bucket.command("rm")
@_app_option
@_dir_option
@click.argument("name")
@click.argument("keys", nargs=-1, required=True)
def bucket_rm(app_spec: str | None, data_dir: str | None, name: str, keys: tuple[str, ...]) -> None:
    """Delete objects (their delete triggers fire, as in the cloud)."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        port = cloud.bucket(name)
        missing = [k for k in keys if not port.exists(k)]
        for k in keys:
            if k not in missing:
                port.delete(k)
    if len(missing) < len(keys):
        click.echo(f"deleted {len(keys) - len(missing)} object(s) from bucket {name}")
    if missing:
        _fail(f"bucket {name!r} has no object {', '.join(map(repr, missing))}")


@cli.group(cls=click.Group)
def topic() -> None:
    """Watch what is published on a topic."""


@topic.command("tail")
@_app_option
@_dir_option
@click.argument("name")
@click.option("-n", "--count", type=click.IntRange(1), help="Stop after this many messages.")
def topic_tail(app_spec: str | None, data_dir: str | None, name: str, count: int | None) -> None:
    """Print each message published on the topic from now on, as the running runtime publishes it."""
    with _Client(app_spec, data_dir) as client:
        cloud = client.cloud
        from portside.declarations import Topic

        cloud.resource(name, Topic)
    url = str(_running(client.where, "console")["console"])
    click.echo(f"tailing topic {name} (Ctrl-C to stop)", err=True)
    seen, after = 0, _latest(url)
    try:
        while count is None or seen < count:
            for entry in _stream(url, after):
                after = entry["seq"]
                if entry.get("type") == "write" and entry.get("action") == "publish" and entry.get("resource") == name:
                    stamp = datetime.fromtimestamp(entry["time"]).strftime("%H:%M:%S")
                    by = f" by {entry['function']}" if entry.get("function") else ""
                    click.echo(f"{stamp} {entry['event_id']}{by} -> {entry['consumers']} subscriber(s): {entry['preview']}")
                    seen += 1
                    if count is not None and seen >= count:
                        return
    except KeyboardInterrupt:
        pass


def _latest(url: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}/api/events?limit=1", timeout=10) as resp:
            entries = json.loads(resp.read())
    except OSError as e:
        _fail(f"cannot reach the console at {url}: {e}; is `portside dev` still running?")
    return entries[-1]["seq"] if entries else 0


def _stream(url: str, after: int) -> Any:
    """The console's server-sent events after ``after`` (one connection; it ends after a while)."""
    try:
        resp = urllib.request.urlopen(f"{url}/api/stream?after={after}", timeout=60)
    except OSError as e:
        time.sleep(0.5)
        if isinstance(e, urllib.error.HTTPError):
            _fail(f"the console at {url} refused the stream: {e.code} {e.reason}")
        _fail(f"cannot reach the console at {url}: {e}; is `portside dev` still running?")
    with resp:
        for raw in resp:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("data: "):
                yield json.loads(line[6:])


# -- graph -------------------------------------------------------------------------------------
@cli.command()
@_app_option
@click.option("--markdown", is_flag=True, help="Wrap in a ```mermaid fence, ready for a README.")
def graph(app_spec: str | None, markdown: bool) -> None:
    """Print the app's event flow as a Mermaid flowchart, from its declarations."""
    from portside.app import load_app

    where = _where(app_spec, None, create=True)
    try:
        app = load_app(where.app)
    except PortsideError as e:
        _fail(_explain(e))
    text = mermaid(app)
    click.echo(f"```mermaid\n{text}\n```" if markdown else text)


from portside.local.new import new  # noqa: E402  (its own module: the template and the command)

cli.add_command(new)


def main() -> None:
    """Console-script entry point (``[project.scripts] portside``)."""
    cli(prog_name="portside")


if __name__ == "__main__":
    main()
