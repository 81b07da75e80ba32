/// <reference lib="dom" />
// The JobSet UI in the browser: a live list of JobSets and a page per JobSet (summary, timeline, tree,
// logs, conditions, events), routed by the URL's hash (#/ and #/jobsets/NS/NAME).
import { render } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { JobSetRow, Page } from "../model.ts";
import { type Action, act, clock, dateTime, duration, openStream, useNow } from "./api.ts";
import { type Html, html } from "./html.ts";
import { LogView } from "./logs.ts";
import { TimelineView } from "./timeline.ts";
import { TreeView } from "./tree.ts";

interface Route {
  page: "list" | "jobset";
  namespace: string;
  name: string;
}

function parseHash(): Route {
  const h = location.hash.replace(/^#/, "");
  const m = /^\/jobsets\/([^/]+)\/([^/?]+)/.exec(h);
  if (m) return { page: "jobset", namespace: decodeURIComponent(m[1] ?? ""), name: decodeURIComponent(m[2] ?? "") };
  const ns = new URLSearchParams(h.split("?")[1] ?? "").get("namespace") ?? "";
  return { page: "list", namespace: ns, name: "" };
}

function useRoute(): Route {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

const Badge = ({ state }: { state: string }): Html => html`<span class=${`badge s-${state}`}>${state}</span>`;

function Header({ live, children }: { live: boolean; children?: unknown }): Html {
  return html`<header class="top">
    <h1><a href="#/">JobSets</a></h1>
    ${children}
    <span class="spacer"></span>
    <span class=${`conn${live ? "" : " off"}`} role="status">${live ? "live" : "reconnecting…"}</span>
  </header>`;
}

function ListPage({ namespace }: { namespace: string }): Html {
  const [rows, setRows] = useState<JobSetRow[] | undefined>(undefined);
  const [live, setLive] = useState(false);
  const [filter, setFilter] = useState("");
  const now = useNow();
  useEffect(
    () => openStream("/api/jobsets/stream", { list: (d) => setRows((d as { items: JobSetRow[] }).items) }, setLive),
    [],
  );
  const namespaces = useMemo(() => [...new Set((rows ?? []).map((r) => r.namespace))].sort(), [rows]);
  const shown = (rows ?? []).filter(
    (r) => (!namespace || r.namespace === namespace) && (!filter || r.name.includes(filter)),
  );
  const setNs = (ns: string) => {
    location.hash = ns ? `#/?namespace=${encodeURIComponent(ns)}` : "#/";
  };
  return html`<${Header} live=${live}>
      <label>Namespace <select value=${namespace} onChange=${(e: Event) => setNs((e.currentTarget as HTMLSelectElement).value)}>
        <option value="">All namespaces</option>
        ${namespaces.map((n) => html`<option value=${n}>${n}</option>`)}
        ${namespace && !namespaces.includes(namespace) ? html`<option value=${namespace}>${namespace}</option>` : ""}
      </select></label>
      <label>Name <input type="text" placeholder="filter" value=${filter} onInput=${(e: Event) => setFilter((e.currentTarget as HTMLInputElement).value)} /></label>
    <//>
    <main>
      ${
        rows === undefined
          ? html`<p class="empty">Loading…</p>`
          : shown.length === 0
            ? html`<p class="empty">No JobSets${namespace ? ` in namespace ${namespace}` : ""}. Create one with <code>jobset run FILE</code> or <code>kubectl apply</code>.</p>`
            : html`<table class="list" aria-label="JobSets">
              <thead><tr>
                <th scope="col">Namespace</th><th scope="col">Name</th><th scope="col">Status</th>
                <th scope="col" class="num">Restarts</th><th scope="col" class="num">Jobs</th>
                <th scope="col" class="num">Ready</th><th scope="col" class="num">Succeeded</th><th scope="col" class="num">Failed</th>
                <th scope="col" class="num">Age</th>
              </tr></thead>
              <tbody>
                ${shown.map(
                  (r) => html`<tr key=${r.uid} data-jobset=${`${r.namespace}/${r.name}`} data-state=${r.state}>
                    <td class="muted">${r.namespace}</td>
                    <td><a href=${`#/jobsets/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`}>${r.name}</a></td>
                    <td><${Badge} state=${r.state} /></td>
                    <td class="num">${r.restarts}</td><td class="num">${r.jobs}</td><td class="num">${r.ready}</td>
                    <td class="num">${r.succeeded}</td><td class="num">${r.failed}</td>
                    <td class="num" title=${dateTime(r.created)}>${r.created ? duration(now - r.created) : r.age}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            <p class="muted">${shown.length} of ${rows.length} JobSets</p>`
      }
    </main>`;
}

function ActionDialog({ route, action, onDone }: { route: Route; action: Action; onDone: () => void }): Html {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState("");
  useEffect(() => ref.current?.showModal(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await act(route.namespace, route.name, action, typed);
      ref.current?.close();
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const what =
    action === "delete"
      ? "Delete this JobSet, its Jobs and their pods"
      : action === "suspend"
        ? "Suspend this JobSet (its Jobs' pods are stopped)"
        : "Resume this JobSet";
  return html`<dialog ref=${ref} onClose=${onDone} aria-labelledby="dlg-title">
    <form onSubmit=${submit}>
      <strong id="dlg-title">${what}?</strong>
      <label>Type <code>${route.name}</code> to confirm:
        <input type="text" autofocus value=${typed} onInput=${(e: Event) => setTyped((e.currentTarget as HTMLInputElement).value)} aria-label="JobSet name" /></label>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ""}
      <div class="row">
        <button type="button" onClick=${() => ref.current?.close()}>Cancel</button>
        <button type="submit" class=${action === "delete" ? "danger" : ""} disabled=${typed !== route.name}>${action[0]?.toUpperCase()}${action.slice(1)}</button>
      </div>
    </form>
  </dialog>`;
}

function JobSetPage({ route }: { route: Route }): Html {
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [gone, setGone] = useState(false);
  const [live, setLive] = useState(false);
  const [pod, setPod] = useState<string | undefined>(undefined);
  const [action, setAction] = useState<Action | undefined>(undefined);
  const now = useNow();
  useEffect(() => {
    setPage(undefined);
    setGone(false);
    const path = `/api/jobsets/${encodeURIComponent(route.namespace)}/${encodeURIComponent(route.name)}/stream`;
    const close = openStream(
      path,
      {
        page: (d) => setPage(d as Page),
        gone: () => {
          setGone(true);
          close();
        },
      },
      setLive,
    );
    return close;
  }, [route.namespace, route.name]);
  useEffect(() => {
    document.title = `${route.name} · JobSets`;
  }, [route.name]);
  const head = html`<${Header} live=${live && !gone}><span class="muted">/</span> <span class="mono">${route.namespace}/${route.name}</span><//>`;
  if (gone && !page)
    return html`${head}<main><p class="empty">JobSet ${route.namespace}/${route.name} does not exist. <a href="#/">Back to the list</a></p></main>`;
  if (!page) return html`${head}<main><p class="empty">Loading…</p></main>`;
  const { row, view, timeline } = page;
  return html`${head}
    <main>
      <div class="toolbar">
        <h2>${row.name}</h2> <${Badge} state=${gone ? "Deleted" : row.state} />
        <span style="flex:1"></span>
        ${
          row.suspended
            ? html`<button onClick=${() => setAction("resume")} disabled=${gone}>Resume…</button>`
            : html`<button onClick=${() => setAction("suspend")} disabled=${gone || row.state === "Completed" || row.state === "Failed"}>Suspend…</button>`
        }
        <button class="danger" onClick=${() => setAction("delete")} disabled=${gone}>Delete…</button>
      </div>
      ${gone ? html`<p class="error" role="alert">This JobSet was deleted.</p>` : ""}
      <dl class="summary">
        <div><dt>Namespace</dt><dd>${row.namespace}</dd></div>
        <div><dt>Restarts</dt><dd data-restarts=${row.restarts}>${row.restarts}</dd></div>
        <div><dt>Jobs</dt><dd>${row.jobs}</dd></div>
        <div><dt>Pods succeeded</dt><dd>${view.progress.succeeded} / ${view.progress.total}</dd></div>
        <div><dt>Created</dt><dd title=${dateTime(row.created)}>${row.created ? duration(now - row.created) : row.age} ago</dd></div>
        ${row.message ? html`<div style="flex-basis:100%"><dt>Result</dt><dd class=${`s-${row.state}`}>${row.message}</dd></div>` : ""}
      </dl>
      <h3 id="tl-h">Timeline</h3>
      <${TimelineView} timeline=${timeline} onPod=${setPod} />
      ${
        pod
          ? html`<h3>Logs</h3><${LogView} namespace=${row.namespace} pod=${pod} containers=${page.containers[pod] ?? []} onClose=${() => setPod(undefined)} />`
          : ""
      }
      <h3>Tree</h3>
      <${TreeView} view=${view} onPod=${setPod} />
      <h3>Conditions</h3>
      ${
        view.conditions.length === 0
          ? html`<p class="muted">None yet.</p>`
          : html`<table class="list events"><thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
            <tbody>${view.conditions.map((c) => html`<tr><td>${c.type}</td><td>${c.status}</td><td>${c.reason}</td><td>${c.message}</td></tr>`)}</tbody></table>`
      }
      <h3>Events</h3>
      ${
        view.events.length === 0
          ? html`<p class="muted">None (events expire after an hour).</p>`
          : html`<table class="list events"><thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
            <tbody>${view.events.map(
              (e) =>
                html`<tr><td title=${dateTime(e.time)}>${clock(e.time)} <span class="muted">(+${duration(e.time - timeline.start)})</span></td><td class=${e.type === "Warning" ? "s-Failed" : ""}>${e.type}</td><td>${e.reason}</td><td>${e.note}${e.count > 1 ? ` (×${e.count})` : ""}</td></tr>`,
            )}</tbody></table>`
      }
      ${action ? html`<${ActionDialog} route=${route} action=${action} onDone=${() => setAction(undefined)} />` : ""}
    </main>`;
}

function App(): Html {
  const route = useRoute();
  return route.page === "jobset"
    ? html`<${JobSetPage} key=${`${route.namespace}/${route.name}`} route=${route} />`
    : html`<${ListPage} namespace=${route.namespace} />`;
}

const root = document.getElementById("app");
if (root) render(html`<${App} />`, root);
