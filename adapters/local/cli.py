"""The ``portside`` command: run the app locally and poke at it.

    portside dev                         # run handlers.app:app, print the URL, a live line per event
    portside invoke POST /contact -d '{"name": "Ada", ...}'
    portside emit contact-jobs '{"...": "..."}'   # a queue, topic, bucket (--key) or schedule
    portside dlq list / portside dlq redrive --all
    portside graph > flow.mmd            # the event flow as a Mermaid flowchart

Every command finds the app with ``--app`` (env ``PORTSIDE_APP``, default ``handlers.app:app``)
and the running runtime through the runtime file in ``--data-dir`` (env ``PORTSIDE_DATA_DIR``,
default ``.portside``). Problems are one line on stderr and exit status 1, never a traceback.
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
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from portside.declarations import (
    Api,
    Bucket,
    HttpTrigger,
    ObjectCreatedTrigger,
    ObjectDeletedTrigger,
    Queue,
    QueueTrigger,
    Resource,
    Schedule,
    Table,
    Topic,
    TopicTrigger,
)
from portside.errors import PortsideError, UnsupportedEvent
from portside.events import ObjectCreated, ObjectDeleted
from portside.local import codec

DEFAULT_DIR = ".portside"

# A body that the reference app's routes accept, for the copy-paste line `portside dev` prints.
SAMPLE_BODIES: dict[str, Any] = {
    "POST /contact": {"name": "Ada", "email": "ada@example.com", "message": "Hello from portside dev"},
    "POST /orders": {"customer": "ada@example.com", "payment_token": "tok_visa",
                     "items": [{"sku": "kibble-5kg", "qty": 2}]},
    "POST /notes": {"id": "note-1", "text": "hello"},
}


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


def _project(app: str | None, data_dir: str | None) -> tuple[str, str]:
    """The app and data dir to use: the options', else the current project's (found from any subfolder)."""
    from portside import project

    try:
        found = project.find()
    except PortsideError as e:
        _fail(_explain(e))
    if found is not None:
        found.importable()
    elif os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if app is None:
        if found is None:
            _fail(f"{os.getcwd()} is not inside a portside project (no pyproject.toml with [tool.portside]): "
                  "run the command in your project, or pass --app module:attribute")
        app = found.app
    if data_dir is None:
        data_dir = str(found.data_dir if found is not None else Path(DEFAULT_DIR))
    return app, data_dir


def _cloud(app: str | None, data_dir: str | None, **kw: Any) -> Any:
    from portside.local.runtime import LocalCloud

    app, data_dir = _project(app, data_dir)
    try:
        return LocalCloud(app, data_dir, **kw)
    except PortsideError as e:
        _fail(_explain(e))


_app_option = click.option("--app", "app_spec", default=None, envvar="PORTSIDE_APP",
                           help="The App to run, as module:attribute (default: [tool.portside] app of the project).")
_dir_option = click.option("--data-dir", default=None, envvar="PORTSIDE_DATA_DIR",
                           type=click.Path(file_okay=False), help="Where queues, tables and buckets live.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    """A copy-paste curl line for the app's first POST route (a GET one if it has none)."""
    routes = [f.trigger for f in app.functions.values() if isinstance(f.trigger, HttpTrigger)]
    if not routes:
        return ""
    posts = [r for r in routes if r.method == "POST" and "{" not in r.path]
    known = [r for r in posts if f"POST {r.path}" in SAMPLE_BODIES]
    route = (known or posts or routes)[0]
    path = route.path.replace("{", "").replace("}", "")
    if route.method in ("GET", "ANY"):
        return f"curl -sS {url}{path}"
    body = json.dumps(SAMPLE_BODIES.get(f"POST {route.path}", {}))
    return f"curl -sS -X {route.method} {url}{path} -H 'content-type: application/json' -d {shlex.quote(body)}"


@cli.command()
@_app_option
@_dir_option
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="HTTP port on 127.0.0.1 (0 picks a free one).")
@click.option("--workers", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads: a slow handler holds one, not the whole runtime.")
@click.option("--quiet", is_flag=True, help="No live line per event.")
def dev(app_spec: str, data_dir: str, port: int, workers: int, quiet: bool) -> None:
    """Run the app on this machine: HTTP on 127.0.0.1, durable queues and tables in DATA_DIR."""
    out = _out()
    lock = threading.Lock()

    def report(r: Any) -> None:
        fn = cloud.app.functions.get(r.function)
        line = _line(r, fn.timeout if fn else None)
        with lock:
            out(line)
            sys.stdout.flush()

    logging.basicConfig(level=logging.WARNING, format="  %(levelname)s %(name)s: %(message)s")
    logging.getLogger("portside").setLevel(logging.ERROR)  # the live line already says what failed
    app_spec, data_dir = _project(app_spec, data_dir)
    cloud = _cloud(app_spec, data_dir, workers=workers, on_report=None if quiet else report)
    try:
        cloud.start(port)
    except PortsideError as e:
        cloud.store.close()
        _fail(_explain(e))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    n_http = sum(isinstance(f.trigger, HttpTrigger) for f in cloud.app.functions.values())
    out(f"[bold]portside dev[/bold]: app {cloud.app.name!r} ({len(cloud.app.functions)} functions, "
        f"{n_http} routes) from {app_spec}, data in {data_dir}")
    out(f"  HTTP  [bold cyan]{cloud.url}[/bold cyan]")
    line = try_line(cloud.app, cloud.url)
    if line:
        out(f"  try   {esc(line)}")
    out("  Ctrl-C to stop; `portside graph` shows the event flow, `portside dlq list` the dead letters.")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()
    out("stopped; accepted events not yet handled are kept in the data dir for the next run.")


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


def _running_url(data_dir: str) -> str:
    from portside.local.runtime import running

    info = running(data_dir)
    if not info or not info.get("url"):
        _fail(f"no portside runtime is serving HTTP on data dir {data_dir!r}: start one with `portside dev`")
    return str(info["url"])


@cli.command()
@_dir_option
@click.argument("method")
@click.argument("path")
@click.option("-d", "--data", help="Request body: text, @file, or - for stdin.")
@click.option("-H", "--header", "headers", multiple=True, help="A header, 'name: value' (repeatable).")
def invoke(data_dir: str, method: str, path: str, data: str | None, headers: tuple[str, ...]) -> None:
    """Send an HTTP request to the running app, e.g. `portside invoke GET /orders/o-1`."""
    url = _running_url(data_dir)
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


@cli.command()
@_app_option
@_dir_option
@click.argument("resource")
@click.argument("data", required=False)
@click.option("--key", help="Object key (buckets; default: the file's name for @file).")
@click.option("--type", "ce_type", help="Topics: publish a CloudEvent of this type with DATA (JSON) as its data.")
@click.option("--attr", "attrs", multiple=True, help="Message attribute name=value (repeatable).")
@click.option("--content-type", help="Object content type (buckets).")
def emit(app_spec: str, data_dir: str, resource: str, data: str | None, key: str | None, ce_type: str | None,
         attrs: tuple[str, ...], content_type: str | None) -> None:
    """Send an event into the app: a message to a queue or topic, an upload to a bucket, a schedule tick.

    DATA is text, @file or - (stdin). The event is stored durably in DATA_DIR; the running
    runtime (or the next `portside dev`) delivers it.
    """
    cloud = _cloud(app_spec, data_dir)
    try:
        res: Resource = cloud.app.resource(resource)
        body = _data(data)
        what: str
        if isinstance(res, Queue):
            what = f"message {cloud.send(res.name, body, _attrs(attrs))} on queue {res.name}"
        elif isinstance(res, Topic):
            if ce_type:
                from portside.events import Event

                try:
                    payload: Any = json.loads(body) if body else None
                except ValueError:
                    payload = body.decode("utf-8", "replace")
                message: Any = Event(ce_type, "portside-cli", payload)
            else:
                message = body
            what = f"message {cloud.publish(res.name, message, _attrs(attrs))} on topic {res.name}"
        elif isinstance(res, Bucket):
            name = key or (Path(data[1:]).name if data and data.startswith("@") else None)
            if not name:
                _fail("an upload needs --key KEY (or DATA as @file)")
            cloud.upload(res.name, name, body, content_type)
            what = f"object {name!r} ({len(body)} bytes) in bucket {res.name}"
        elif isinstance(res, Schedule):
            what = f"tick of schedule {res.name} to {cloud.tick(res.name)} function(s)"
        else:
            _fail(f"{res.kind} {res.name!r} takes no events: emit to a queue, topic, bucket or schedule"
                  + (" (use `portside invoke` for HTTP)" if isinstance(res, Api) else ""))
    except (PortsideError, ValueError, TypeError) as e:
        _fail(_explain(e))
    finally:
        cloud.store.close()
    from portside.local.runtime import running

    who = running(data_dir)
    later = f"runtime pid {who['pid']} delivers it" if who else "no runtime is running: `portside dev` delivers it"
    click.echo(f"stored {what}; {later}")


# -- dlq ---------------------------------------------------------------------------------------
@cli.group()
def dlq() -> None:
    """Inspect and replay dead letters (events that failed for good, with their error)."""


@dlq.command("list")
@_app_option
@_dir_option
@click.option("--function", help="Only this function's dead letters.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def dlq_list(app_spec: str, data_dir: str, function: str | None, as_json: bool) -> None:
    """List dead letters: id, function, source, attempts, error, and the event."""
    cloud = _cloud(app_spec, data_dir)
    try:
        rows = cloud.store.dead_letters(function)
    finally:
        cloud.store.close()
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
        kind, event_id, preview = _preview(r.event)
        out(f"[bold]#{r.seq}[/bold] {when} {esc(r.source)} -> {r.function}: [red]{r.error_type}[/red]: {esc(r.error)} "
            f"(after {r.attempts} attempt{'s' if r.attempts != 1 else ''})")
        out(f"     {kind} {esc(event_id)}: {esc(preview)}")
    click.echo(f"{len(rows)} dead letter(s); replay with `portside dlq redrive ID...` or `--all`")


def _preview(stored: str) -> tuple[str, str, str]:
    """Kind, id and a one-line preview of a stored event (the row itself if it is unreadable)."""
    try:
        event = codec.load(stored)
    except UnsupportedEvent:
        return "unreadable", "?", stored[:117] + "..." if len(stored) > 120 else stored
    body = getattr(event, "body", None)
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    elif isinstance(event, (ObjectCreated, ObjectDeleted)):
        text = f"{event.bucket}/{event.key}"
    else:
        text = repr(event)
    return type(event).__name__, event.id, text if len(text) <= 120 else text[:117] + "..."


@dlq.command("redrive")
@_app_option
@_dir_option
@click.argument("ids", nargs=-1, type=int)
@click.option("--function", help="Every dead letter of this function.")
@click.option("--all", "everything", is_flag=True, help="Every dead letter.")
def dlq_redrive(app_spec: str, data_dir: str, ids: tuple[int, ...], function: str | None, everything: bool) -> None:
    """Send dead letters back to their function, attempts reset."""
    if not ids and not function and not everything:
        _fail("say which dead letters to redrive: IDs (from `portside dlq list`), --function NAME or --all")
    cloud = _cloud(app_spec, data_dir)
    try:
        if function:
            cloud.app.get_function(function)
        n = cloud.redrive(list(ids) or None, function)
    except PortsideError as e:
        _fail(_explain(e))
    finally:
        cloud.store.close()
    from portside.local.runtime import running

    click.echo(f"redrove {n} dead letter(s)" + ("" if running(data_dir) else "; `portside dev` delivers them"))


# -- graph -------------------------------------------------------------------------------------
def _node(r: Resource) -> str:
    nid = f"{r.kind}_{r.name}".replace("-", "_")
    label = f"{r.kind} {r.name}"
    if isinstance(r, Schedule):
        label += f"<br/>{r.cron or 'every ' + str(r.rate)}"
    shape = {Api: ('(["', '"])'), Bucket: ('[("', '")]'), Table: ('[("', '")]'), Queue: ('[/"', '"/]'),
             Topic: ('{{"', '"}}'), Schedule: ('(["', '"])')}
    open_, close = next((v for k, v in shape.items() if isinstance(r, k)), ('["', '"]'))
    return f"{nid}{open_}{label}{close}"


def _nid(r: Resource) -> str:
    return f"{r.kind}_{r.name}".replace("-", "_")


def _trigger_label(t: Any) -> str:
    if isinstance(t, HttpTrigger):
        return f"{t.method} {t.path}"
    if isinstance(t, (ObjectCreatedTrigger, ObjectDeletedTrigger)):
        what = "created" if isinstance(t, ObjectCreatedTrigger) else "deleted"
        match = " ".join(x for x in (f"{t.prefix}*" if t.prefix else "", f"*{t.suffix}" if t.suffix else "") if x)
        return f"{what} {match}".strip()
    if isinstance(t, TopicTrigger):
        types = ", ".join(t.filter.get("ce-type", ()))
        parts = [types] * bool(types) + [f"{k}={' or '.join(v)}" for k, v in t.filter.items() if k != "ce-type"]
        return " ".join(parts) or "every event"
    if isinstance(t, QueueTrigger):
        return f"batch {t.batch_size}" if t.batch_size > 1 else "message"
    return "tick"


def mermaid(app: Any) -> str:
    """The app's event flow: sources -> handlers -> what each writes, sends or publishes."""
    lines = ["flowchart LR"]
    used: dict[str, Resource] = {}
    edges: list[str] = []
    for fn in app.functions.values():
        fid = "fn_" + fn.name.replace("-", "_")
        lines.append(f'  {fid}["{fn.name}"]')
        src = fn.trigger.source
        used[src.name] = src
        edges.append(f'  {_nid(src)} -->|"{_trigger_label(fn.trigger)}"| {fid}')
        for use in fn.uses:
            if use.access in ("write", "send", "publish"):
                used[use.resource.name] = use.resource
                verb = {"write": "writes", "send": "sends", "publish": "publishes"}[use.access]
                edges.append(f'  {fid} -.->|{verb}| {_nid(use.resource)}')
    for r in app.resources.values():
        if r.name in used:
            lines.append(f"  {_node(r)}")
    lines += edges
    lines.append("  classDef fn fill:#eef,stroke:#557")
    lines.append("  class " + ",".join("fn_" + f.name.replace("-", "_") for f in app.functions.values()) + " fn")
    return "\n".join(lines)


@cli.command()
@_app_option
@click.option("--markdown", is_flag=True, help="Wrap in a ```mermaid fence, ready for a README.")
def graph(app_spec: str, markdown: bool) -> None:
    """Print the app's event flow as a Mermaid flowchart, from its declarations."""
    from portside.app import load_app

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        app = load_app(app_spec)
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
