/// <reference lib="dom" />
// The tree of `jobset tree` (replicated jobs → Jobs → pods) from the same view model (src/cli/render.ts
// buildView), windowed: a 1,000-Job JobSet renders only the rows in view.
import { useMemo } from "preact/hooks";
import type { JobSetView } from "../../cli/render.ts";
import { type Html, html } from "./html.ts";
import { ROW, useWindow } from "./virtual.ts";

interface Row {
  key: string;
  guide: string;
  kind: "jobset" | "rjob" | "job" | "pod";
  name: string;
  phase: string;
  detail: string;
}

function rows(v: JobSetView): Row[] {
  const out: Row[] = [
    { key: "js", guide: "", kind: "jobset", name: `JobSet ${v.namespace}/${v.name}`, phase: v.state, detail: "" },
  ];
  v.rjobs.forEach((r, ri) => {
    const lastR = ri === v.rjobs.length - 1;
    const counts = [`${r.replicas} job${r.replicas === 1 ? "" : "s"}`];
    for (const k of ["ready", "active", "succeeded", "failed", "suspended"] as const)
      if (r[k] > 0) counts.push(`${r[k]} ${k}`);
    out.push({
      key: `r/${r.name}`,
      guide: lastR ? "└─ " : "├─ ",
      kind: "rjob",
      name: r.name,
      phase: "",
      detail: counts.join(", "),
    });
    const p1 = lastR ? "   " : "│  ";
    r.jobs.forEach((j, ji) => {
      const lastJ = ji === r.jobs.length - 1;
      out.push({
        key: `j/${j.name}`,
        guide: `${p1}${lastJ ? "└─ " : "├─ "}`,
        kind: "job",
        name: j.name,
        phase: j.phase,
        detail: `${j.reason ? `(${j.reason}) ` : ""}active ${j.active}, succeeded ${j.succeeded}, failed ${j.failed}`,
      });
      const p2 = `${p1}${lastJ ? "   " : "│  "}`;
      j.pods.forEach((p, pi) => {
        const phase = p.terminating ? "Terminating" : p.phase;
        out.push({
          key: `p/${p.name}`,
          guide: `${p2}${pi === j.pods.length - 1 ? "└─ " : "├─ "}`,
          kind: "pod",
          name: p.name,
          phase,
          detail: [
            p.reason && p.reason !== phase ? p.reason : "",
            p.restarts ? `restarts ${p.restarts}` : "",
            p.node ? `on ${p.node}` : "",
          ]
            .filter(Boolean)
            .join("  "),
        });
      });
    });
  });
  return out;
}

export function TreeView({ view, onPod }: { view: JobSetView; onPod: (pod: string) => void }): Html {
  const all = useMemo(() => rows(view), [view]);
  const viewport = Math.min(all.length * ROW, 420);
  const win = useWindow(all.length, viewport);
  return html`<div class="tree panel" style=${`height:${viewport + 2}px`} onScroll=${win.onScroll} role="list" tabindex="0" aria-label="Replicated jobs, Jobs and pods">
    <div style=${`height:${win.height}px;position:relative`}>
      ${all.slice(win.first, win.last).map(
        (
          r,
          i,
        ) => html`<div class="tree-row" role="listitem" key=${r.key} data-row=${r.key} style=${`top:${(win.first + i) * ROW}px;height:${ROW}px`}>
          <span class="guide" aria-hidden="true">${r.guide}</span>
          ${
            r.kind === "pod"
              ? html`<button class="link" title=${`Show the logs of ${r.name}`} onClick=${() => onPod(r.name)}>${r.name}</button>`
              : html`<strong>${r.name}</strong>`
          }
          ${r.phase ? html`<span class=${`s-${r.phase}`}>${r.phase}</span>` : ""}
          <span class="muted">${r.detail}</span>
        </div>`,
      )}
    </div>
  </div>`;
}
