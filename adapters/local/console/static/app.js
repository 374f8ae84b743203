// The portside console: one page, one view per hash (#events, #trace/ID, #graph...), no dependency.
"use strict";

const TOKEN = document.querySelector('meta[name="portside-token"]').content;
const state = { app: null, entries: [], lastSeq: 0, stream: null, timer: null };

// -- helpers ----------------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(method, path, body, raw) {
  const opts = { method, headers: {} };
  if (method !== "GET") opts.headers["X-Portside-Token"] = TOKEN;
  if (body !== undefined) {
    if (raw) { opts.body = body; opts.headers["Content-Type"] = raw; }
    else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  }
  const resp = await fetch(path, opts);
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!resp.ok) throw new Error((data && data.error) || `${resp.status} ${resp.statusText}`);
  return data;
}

const fmtTime = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false }) + "." +
  String(Math.floor((t % 1) * 1000)).padStart(3, "0");
const fmtMs = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms.toFixed(1) + " ms");
const badge = (outcome, extra) => h("span", { class: `badge ${outcome}`, "data-outcome": outcome }, extra || outcome);
const traceLink = (id, text) => id ? h("a", { href: `#trace/${id}`, class: "trace-link" }, text || "trace") : "";

function view(...children) {
  const main = document.getElementById("view");
  main.replaceChildren(...children);
  return main;
}

function message(el, text, cls) {
  el.replaceChildren(h("span", { class: cls || "ok" }, text));
}

function resources(kind) {
  return (state.app ? state.app.resources : []).filter((r) => !kind || [].concat(kind).includes(r.kind));
}

function params() {
  const [, query] = location.hash.split("?");
  return new URLSearchParams(query || "");
}

// -- app info, reload errors, dead-letter count -------------------------------------------------
async function refreshApp() {
  try {
    state.app = await api("GET", "/api/app");
    document.getElementById("app-name").textContent = state.app.name;
    const link = document.getElementById("app-url");
    link.textContent = state.app.url || "(no HTTP)";
    if (state.app.url) link.href = state.app.url;
    const banner = document.getElementById("reload-error");
    banner.hidden = !state.app.error;
    banner.textContent = state.app.error ? `The last edit does not load; the previous version keeps running: ${state.app.error}` : "";
    const dead = await api("GET", "/api/dead-letters");
    document.getElementById("dl-count").textContent = dead.length ? String(dead.length) : "";
  } catch (e) { /* the runtime is restarting: try again on the next tick */ }
}

// -- live events ---------------------------------------------------------------------------------
function startStream() {
  if (state.stream) return;
  const source = new EventSource(`/api/stream?after=${state.lastSeq}`);
  source.onmessage = (msg) => {
    const entry = JSON.parse(msg.data);
    if (entry.seq <= state.lastSeq) return;
    state.lastSeq = entry.seq;
    state.entries.push(entry);
    if (state.entries.length > 2000) state.entries.shift();
    if (currentView() === "events") addEventRow(entry, true);
  };
  state.stream = source;
}

function currentView() {
  return (location.hash.slice(1) || "events").split(/[/?]/)[0];
}

function matches(entry, f) {
  if (f.function && entry.function !== f.function) return false;
  if (f.resource && entry.resource !== f.resource) return false;
  const outcome = entry.type === "write" ? "write" : entry.outcome;
  if (f.outcome && outcome !== f.outcome) return false;
  return true;
}

function eventRow(e) {
  if (e.type === "write") {
    return h("tr", { class: "write", "data-seq": e.seq },
      h("td", {}, fmtTime(e.time)),
      h("td", {}, `${e.action} ${e.resource}`, e.function ? h("span", { class: "muted" }, ` by ${e.function}`) : ""),
      h("td", {}, badge("write", e.consumers ? `${e.consumers} consumer${e.consumers > 1 ? "s" : ""}` : "no consumer")),
      h("td", {}, ""), h("td", {}, ""),
      h("td", { class: "preview" }, e.preview),
      h("td", {}, traceLink(e.trace_id)));
  }
  const outcome = e.status !== null ? `${e.status}` : e.outcome === "retry" ? `retry in ${e.delay}s` : e.outcome;
  return h("tr", { class: `invocation ${e.outcome}`, "data-seq": e.seq, "data-function": e.function },
    h("td", {}, fmtTime(e.time)),
    h("td", {}, h("span", { class: "muted" }, `${e.source} → `), h("b", {}, e.function)),
    h("td", {}, badge(e.outcome, outcome)),
    h("td", { class: "num" }, e.attempt),
    h("td", { class: "num" }, fmtMs(e.ms)),
    h("td", { class: "preview" }, e.error ? h("span", { class: "error" }, `${e.error_type}: ${e.error}`) : e.preview),
    h("td", {}, traceLink(e.trace_id)));
}

function addEventRow(entry, live) {
  const body = document.getElementById("events-body");
  if (!body) return;
  const f = Object.fromEntries(params());
  if (!matches(entry, f)) return;
  body.prepend(eventRow(entry));
  if (live) while (body.children.length > 500) body.lastChild.remove();
  const empty = document.getElementById("events-empty");
  if (empty) empty.remove();
}

function select(name, label, options, value) {
  return h("label", {}, label, " ",
    h("select", { name, id: `filter-${name}` },
      h("option", { value: "" }, "all"),
      options.map((o) => h("option", { value: o, selected: o === value }, o))));
}

function showEvents() {
  const f = Object.fromEntries(params());
  const functions = state.app ? state.app.functions.map((x) => x.name) : [];
  const names = resources().map((r) => r.name).concat(state.app ? state.app.routes.map((r) => r.path) : []);
  const filters = h("form", { class: "filters", id: "event-filters" },
    select("function", "function", functions, f.function),
    select("resource", "resource", [...new Set(names)], f.resource),
    select("outcome", "outcome", ["ok", "retry", "dead-letter", "error", "dropped", "write"], f.outcome));
  filters.addEventListener("change", () => {
    const q = new URLSearchParams();
    for (const el of filters.querySelectorAll("select")) if (el.value) q.set(el.name, el.value);
    location.hash = "events" + (q.toString() ? "?" + q : "");
  });
  const table = h("table", { class: "events" },
    h("thead", {}, h("tr", {}, ["time", "source → function", "outcome", "attempt", "duration", "event / error", ""].map((c) => h("th", {}, c)))),
    h("tbody", { id: "events-body" }));
  view(h("h2", {}, "Live events"), filters, table,
    h("p", { id: "events-empty", class: "muted" }, "Nothing yet: send a request or an event (Send), or use the app."));
  for (const e of state.entries) addEventRow(e, false);
}

// -- traces ----------------------------------------------------------------------------------------
async function showTraces() {
  const traces = await api("GET", "/api/traces");
  view(h("h2", {}, "Traces"),
    traces.length ? h("table", { class: "traces" },
      h("thead", {}, h("tr", {}, ["started", "root", "functions", "invocations", "failures", "duration"].map((c) => h("th", {}, c)))),
      h("tbody", {}, traces.map((t) => h("tr", { "data-trace": t.trace_id },
        h("td", {}, fmtTime(t.started)),
        h("td", {}, traceLink(t.trace_id, t.root)),
        h("td", {}, t.functions.join(", ")),
        h("td", { class: "num" }, t.invocations),
        h("td", { class: "num" }, t.failed ? badge("retry", String(t.failed)) : "0"),
        h("td", { class: "num" }, fmtMs(t.ms))))))
      : h("p", { class: "muted" }, "No traces yet: every HTTP request, message and upload starts one."));
}

function attemptBadge(a) {
  const text = a.status !== null && a.status !== undefined ? `${a.status}` :
    a.outcome === "retry" ? `retry in ${a.delay}s` : a.outcome;
  return h("span", { class: "attempt", "data-outcome": a.outcome },
    `#${a.attempt} `, badge(a.outcome, text), ` ${fmtMs(a.ms)}`,
    a.error ? h("div", { class: "error" }, `${a.error_type}: ${a.error}`) : "");
}

function treeNode(node, t0) {
  let head;
  if (node.type === "write") {
    head = h("div", { class: "node write", "data-resource": node.resource },
      h("span", { class: "kind" }, node.action), ` ${node.resource} `,
      h("span", { class: "muted" }, node.consumers ? `→ ${node.consumers} consumer${node.consumers > 1 ? "s" : ""}` : "→ no consumer"),
      h("div", { class: "preview" }, node.preview));
  } else {
    const offset = node.start - t0;
    head = h("div", { class: `node invocation ${node.outcome}`, "data-function": node.function },
      h("span", { class: "kind" }, "invoke"), " ", h("b", {}, node.function), " ",
      h("span", { class: "muted" }, `${node.source} · +${fmtMs(offset * 1000)}`),
      h("div", { class: "attempts" }, node.attempts.map(attemptBadge)),
      h("div", { class: "preview" }, node.preview));
  }
  return h("li", {}, head, node.children.length ? h("ul", {}, node.children.map((c) => treeNode(c, t0))) : "");
}

async function showTrace(id) {
  let trace;
  try { trace = await api("GET", `/api/traces/${encodeURIComponent(id)}`); }
  catch (e) { view(h("h2", {}, "Trace"), h("p", { class: "error" }, e.message)); return; }
  view(h("h2", {}, "Trace ", h("code", {}, id)),
    h("p", { class: "summary" }, `${trace.root} · ${trace.invocations} invocation(s) · ${trace.failed} failed · ${fmtMs(trace.ms)}`),
    h("ul", { class: "tree", id: "trace-tree" }, trace.roots.map((n) => treeNode(n, trace.started))));
}

// -- graph -------------------------------------------------------------------------------------------
async function showGraph() {
  const resp = await fetch("/api/graph");
  const doc = new DOMParser().parseFromString(await resp.text(), "image/svg+xml");
  view(h("h2", {}, "Event flow"), h("p", { class: "muted" }, "The same graph as `portside graph`; click a node for its recent events."),
    h("div", { class: "graph", id: "graph" }, document.importNode(doc.documentElement, true)));
}

// -- dead letters ---------------------------------------------------------------------------------------
async function showDeadLetters() {
  const rows = await api("GET", "/api/dead-letters");
  const status = h("p", { id: "dl-status", class: "status" });
  const act = (what, id) => async () => {
    try {
      const r = await api("POST", `/api/dead-letters/${what}`, { ids: [id] });
      await showDeadLetters();
      message(document.getElementById("dl-status"), what === "redrive" ? `redriven #${id}: watch Events` : `discarded #${id}`);
      refreshApp();
      return r;
    } catch (e) { message(status, e.message, "error"); }
  };
  view(h("h2", {}, "Dead letters"), status,
    rows.length ? h("table", { class: "dead-letters" },
      h("thead", {}, h("tr", {}, ["#", "when", "source → function", "error", "attempts", "event", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows.map((r) => h("tr", { "data-id": r.id, "data-function": r.function },
        h("td", {}, r.id), h("td", {}, fmtTime(r.time)),
        h("td", {}, h("span", { class: "muted" }, `${r.source} → `), h("b", {}, r.function)),
        h("td", { class: "error" }, `${r.error_type}: ${r.error}`),
        h("td", { class: "num" }, r.attempts),
        h("td", { class: "preview" }, r.preview),
        h("td", { class: "actions" },
          h("button", { class: "redrive", onclick: act("redrive", r.id) }, "Redrive"),
          h("button", { class: "discard danger", onclick: act("discard", r.id) }, "Discard"))))))
      : h("p", { class: "muted", id: "dl-empty" }, "No dead letters."));
}

// -- buckets ------------------------------------------------------------------------------------------------
async function showBuckets() {
  const buckets = resources("bucket");
  const name = params().get("bucket") || (buckets[0] && buckets[0].name);
  if (!name) { view(h("h2", {}, "Buckets"), h("p", { class: "muted" }, "The app declares no bucket.")); return; }
  const objects = await api("GET", `/api/buckets/${encodeURIComponent(name)}`);
  const status = h("p", { class: "status", id: "bucket-status" });
  const file = h("input", { type: "file", id: "upload-file" });
  const key = h("input", { type: "text", id: "upload-key", placeholder: "key (default: the file's name)" });
  const upload = h("form", { class: "inline", id: "upload-form" }, file, key, h("button", { type: "submit" }, "Upload"));
  upload.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) { message(status, "choose a file", "error"); return; }
    const k = key.value || f.name;
    try {
      await api("POST", `/api/buckets/${encodeURIComponent(name)}/object?key=${encodeURIComponent(k)}`, await f.arrayBuffer(),
        f.type || "application/octet-stream");
      await showBuckets();
      message(document.getElementById("bucket-status"), `uploaded ${k}`);
    } catch (e) { message(status, e.message, "error"); }
  });
  const remove = (k) => async () => {
    try {
      await api("DELETE", `/api/buckets/${encodeURIComponent(name)}/object?key=${encodeURIComponent(k)}`);
      await showBuckets();
      message(document.getElementById("bucket-status"), `deleted ${k}`);
    } catch (e) { message(status, e.message, "error"); }
  };
  view(h("h2", {}, "Buckets"),
    h("nav", { class: "tabs" }, buckets.map((b) => h("a", { href: `#buckets?bucket=${b.name}`, class: b.name === name ? "active" : "" }, b.name))),
    upload, status,
    objects.length ? h("table", { class: "objects", id: "objects" },
      h("thead", {}, h("tr", {}, ["key", "size", "type", "modified", ""].map((c) => h("th", {}, c)))),
      h("tbody", {}, objects.map((o) => h("tr", { "data-key": o.key },
        h("td", {}, o.key), h("td", { class: "num" }, o.size), h("td", {}, o.content_type || ""),
        h("td", {}, fmtTime(o.modified)),
        h("td", { class: "actions" },
          h("a", { href: `/api/buckets/${encodeURIComponent(name)}/object?key=${encodeURIComponent(o.key)}`, download: o.key.split("/").pop() }, "Download"),
          " ", h("button", { class: "danger", onclick: remove(o.key) }, "Delete"))))))
      : h("p", { class: "muted" }, `Bucket ${name} is empty.`));
}

// -- tables ----------------------------------------------------------------------------------------------------
async function showTables() {
  const tables = resources("table");
  const p = params();
  const name = p.get("table") || (tables[0] && tables[0].name);
  if (!name) { view(h("h2", {}, "Tables"), h("p", { class: "muted" }, "The app declares no table.")); return; }
  const q = new URLSearchParams({ partition: p.get("partition") || "", sort: p.get("sort") || "" });
  let result, error = null;
  try { result = await api("GET", `/api/tables/${encodeURIComponent(name)}?${q}`); }
  catch (e) { error = e.message; result = { items: [], key: "", sort_key: null }; }
  const meta = tables.find((t) => t.name === name) || {};
  const partition = h("input", { name: "partition", id: "query-partition", value: p.get("partition") || "", placeholder: meta.key });
  const sort = meta.sort_key ? h("input", { name: "sort", id: "query-sort", value: p.get("sort") || "", placeholder: meta.sort_key }) : "";
  const form = h("form", { class: "inline", id: "query-form" }, `${meta.key} =`, partition,
    meta.sort_key ? [` ${meta.sort_key} =`, sort] : "", h("button", { type: "submit" }, "Query"),
    h("a", { href: `#tables?table=${name}` }, "browse all"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const n = new URLSearchParams({ table: name, partition: partition.value });
    if (sort) n.set("sort", sort.value);
    location.hash = `tables?${n}`;
  });
  const columns = [...new Set(result.items.flatMap((i) => Object.keys(i)))];
  view(h("h2", {}, "Tables"),
    h("nav", { class: "tabs" }, tables.map((t) => h("a", { href: `#tables?table=${t.name}`, class: t.name === name ? "active" : "" }, t.name))),
    form, error ? h("p", { class: "error" }, error) : "",
    result.items.length ? h("table", { class: "items", id: "items" },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
      h("tbody", {}, result.items.map((i) => h("tr", {}, columns.map((c) => h("td", {},
        i[c] === undefined ? "" : typeof i[c] === "string" ? i[c] : JSON.stringify(i[c])))))))
      : h("p", { class: "muted" }, "No items."));
}

// -- send ----------------------------------------------------------------------------------------------------------
function showSend() {
  const routes = state.app ? state.app.routes : [];
  const method = h("select", { id: "http-method" }, ["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => h("option", {}, m)));
  const path = h("input", { id: "http-path", value: "/", list: "routes" });
  const headers = h("textarea", { id: "http-headers", rows: 2, placeholder: "name: value, one a line" });
  const body = h("textarea", { id: "http-body", rows: 5, placeholder: "request body" });
  const pick = h("select", { id: "http-route" }, h("option", { value: "" }, "a route..."),
    routes.map((r, i) => h("option", { value: i }, `${r.method} ${r.path} → ${r.function}`)));
  pick.addEventListener("change", () => {
    const r = routes[pick.value];
    if (!r) return;
    method.value = r.method === "ANY" ? "GET" : r.method;
    path.value = r.path;
    body.value = r.example || "";
  });
  const httpResult = h("div", { id: "http-result", class: "result" });
  const httpForm = h("form", { id: "http-form", class: "card" }, h("h3", {}, "An HTTP request to the app"),
    h("div", { class: "row" }, pick), h("div", { class: "row" }, method, path),
    h("label", {}, "headers", headers), h("label", {}, "body", body),
    h("button", { type: "submit", id: "http-send" }, "Send request"), httpResult);
  httpForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const hdrs = {};
    for (const line of headers.value.split("\n")) {
      const i = line.indexOf(":");
      if (i > 0) hdrs[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    try {
      const r = await api("POST", "/api/send/http", { method: method.value, path: path.value, headers: hdrs, body: body.value });
      httpResult.replaceChildren(h("div", {}, badge(r.status < 400 ? "ok" : "error", String(r.status)), " ",
        traceLink(r.trace_id, "see its trace")), h("pre", {}, r.body));
    } catch (e) { message(httpResult, e.message, "error"); }
  });

  const targets = resources(["queue", "topic", "bucket", "schedule"]);
  const resource = h("select", { id: "event-resource" }, targets.map((r) => h("option", { value: r.name, "data-kind": r.kind }, `${r.kind} ${r.name}`)));
  const data = h("textarea", { id: "event-body", rows: 5, placeholder: "message body, JSON or text" });
  const attrs = h("textarea", { id: "event-attributes", rows: 2, placeholder: "attribute=value, one a line" });
  const type = h("input", { id: "event-type", placeholder: "CloudEvent type (optional)" });
  const key = h("input", { id: "event-key", placeholder: "object key" });
  const ctype = h("input", { id: "event-content-type", placeholder: "content type (optional)" });
  const fields = { attrs: h("label", {}, "attributes", attrs), type: h("label", {}, "type", type),
    key: h("label", {}, "key", key), ctype: h("label", {}, "content type", ctype), data: h("label", {}, "body", data) };
  const fit = () => {
    const kind = resource.selectedOptions[0] ? resource.selectedOptions[0].dataset.kind : "";
    fields.attrs.hidden = !["queue", "topic"].includes(kind);
    fields.type.hidden = kind !== "topic";
    fields.key.hidden = fields.ctype.hidden = kind !== "bucket";
    fields.data.hidden = kind === "schedule";
  };
  resource.addEventListener("change", fit);
  const eventResult = h("div", { id: "event-result", class: "result" });
  const eventForm = h("form", { id: "event-form", class: "card" }, h("h3", {}, "An event into the app"),
    h("div", { class: "row" }, resource), fields.key, fields.ctype, fields.type, fields.attrs, fields.data,
    h("button", { type: "submit", id: "event-send" }, "Send event"), eventResult);
  eventForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const attributes = {};
    for (const line of attrs.value.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) attributes[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    const kind = resource.selectedOptions[0].dataset.kind;
    try {
      const r = await api("POST", "/api/send/event", { resource: resource.value, body: kind === "schedule" ? "" : data.value,
        attributes: ["queue", "topic"].includes(kind) ? attributes : {}, type: kind === "topic" ? type.value : "",
        key: kind === "bucket" ? key.value : "", content_type: kind === "bucket" ? ctype.value : "" });
      eventResult.replaceChildren(h("div", {}, badge("ok", "stored"), ` ${r.stored} `, traceLink(r.trace_id, "see its trace")));
    } catch (e) { message(eventResult, e.message, "error"); }
  });
  fit();
  view(h("h2", {}, "Send"), h("div", { class: "cards" }, httpForm, eventForm));
}

// -- routing -----------------------------------------------------------------------------------------------------------
async function route() {
  const name = currentView();
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
  clearInterval(state.timer);
  try {
    if (!state.app) await refreshApp();
    if (name === "trace") {
      const id = location.hash.slice("#trace/".length);
      await showTrace(id);
      state.timer = setInterval(() => showTrace(id), 1000); // downstream work arrives as it runs
    } else if (name === "traces") { await showTraces(); state.timer = setInterval(showTraces, 2000); }
    else if (name === "graph") await showGraph();
    else if (name === "dead-letters") await showDeadLetters();
    else if (name === "buckets") await showBuckets();
    else if (name === "tables") await showTables();
    else if (name === "send") showSend();
    else showEvents();
  } catch (e) {
    view(h("p", { class: "error" }, e.message));
  }
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", async () => {
  await refreshApp();
  setInterval(refreshApp, 2000);
  startStream();
  route();
});
