/// <reference lib="dom" />
// The timeline: one lane per Job (and per pod on demand) with pending / running / succeeded / failed
// spans, restart attempts as bands, condition changes and events as markers. Windowed (virtual.ts).
import { useMemo, useState } from "preact/hooks";
import type { Lane, Marker, Span, Timeline } from "../timeline.ts";
import { clock, duration } from "./api.ts";
import { type Html, html } from "./html.ts";
import { ROW, useWindow } from "./virtual.ts";

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

function ticks(start: number, end: number): number[] {
  const span = Math.max(1, (end - start) / 1000);
  const step = (STEPS.find((s) => span / s <= 8) ?? 86400) * 1000;
  const out: number[] = [];
  for (let t = 0; t <= end - start; t += step) out.push(t);
  return out;
}

const stateWord: Record<Span["state"], string> = {
  pending: "pending",
  suspended: "suspended (waiting)",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  deleted: "deleted",
};

function laneSummary(l: Lane, t0: number): string {
  const spans = l.spans.map(
    (s) =>
      `${stateWord[s.state]} from +${duration(s.start - t0)}${s.open ? " on" : ` for ${duration(s.end - s.start)}`}`,
  );
  const marks = l.markers.filter((m) => m.kind === "failure").map((m) => `${m.label} at +${duration(m.time - t0)}`);
  return `${l.kind === "jobset" ? "JobSet" : l.kind === "job" ? "Job" : "Pod"} ${l.name}: ${[...spans, ...marks].join("; ")}`;
}

interface Props {
  timeline: Timeline;
  onPod: (pod: string) => void;
}

export function TimelineView({ timeline: tl, onPod }: Props): Html {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const rows = useMemo(() => {
    const out: Lane[] = [];
    for (const l of tl.lanes) {
      out.push(l);
      if (l.kind === "job" && open.has(l.name)) out.push(...(tl.pods[l.name] ?? []));
    }
    return out;
  }, [tl, open]);
  const viewport = Math.min(rows.length * ROW, 520);
  const win = useWindow(rows.length, viewport);
  const total = Math.max(1, tl.end - tl.start);
  const x = (t: number) => `${(((t - tl.start) / total) * 100).toFixed(3)}%`;
  const w = (a: number, b: number) => `${(((b - a) / total) * 100).toFixed(3)}%`;
  const toggle = (name: string) => {
    const next = new Set(open);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setOpen(next);
  };
  const marker = (m: Marker, lane: Lane) => html`<span
    class=${`tl-marker ${m.kind}`}
    role="img"
    data-kind=${m.kind}
    data-lane=${lane.key}
    aria-label=${`${m.label} at ${clock(m.time)}`}
    title=${`${clock(m.time)} (+${duration(m.time - tl.start)})  ${m.label}`}
    style=${`left:${x(m.time)}`}
  ></span>`;
  const span = (s: Span) => html`<span
    class=${`tl-span ${s.state}${s.open ? " open" : ""}`}
    data-state=${s.state}
    data-attempt=${s.attempt}
    title=${`${stateWord[s.state]}: ${clock(s.start)} → ${s.open ? "now" : clock(s.end)} (${duration(s.end - s.start)}), attempt ${s.attempt}`}
    style=${`left:${x(s.start)};width:${w(s.start, s.end)}`}
  ></span>`;
  const label = (l: Lane) => {
    if (l.kind === "job") {
      const n = tl.pods[l.name]?.length ?? 0;
      return html`<div class="tl-label">
        <button
          aria-expanded=${open.has(l.name)}
          aria-label=${`${open.has(l.name) ? "Hide" : "Show"} the ${n} pod lanes of ${l.name}`}
          disabled=${n === 0}
          onClick=${() => toggle(l.name)}
        >${open.has(l.name) ? "▾" : "▸"}</button><span title=${l.name}>${l.name}</span>
      </div>`;
    }
    if (l.kind === "pod")
      return html`<div class="tl-label"><span class="indent"></span><button class="link" title=${`Show the logs of ${l.name}`} onClick=${() => onPod(l.name)}>${l.name}</button></div>`;
    return html`<div class="tl-label">JobSet ${l.name}</div>`;
  };
  return html`<div class="tl panel" style="--label-w: 260px">
    <div class="tl-head" aria-hidden="true">
      <div class="muted" style="padding:4px 8px;font-size:12px">${rows.length} lanes · ${duration(total)}</div>
      <div class="tl-axis">
        ${ticks(tl.start, tl.end).map((t) => {
          // The first label starts at its tick, one near the right edge ends there: none is clipped.
          const shift = t === 0 ? "none" : t / total > 0.94 ? "translateX(-100%)" : "translateX(-50%)";
          return html`<span style=${`left:${x(tl.start + t)};transform:${shift}`}>+${duration(t)}</span>`;
        })}
      </div>
    </div>
    <div class="tl-head">
      <div></div>
      <div class="tl-axis" role="list" aria-label="Restart attempts">
        ${tl.bands.map(
          (b) => html`<span
            role="listitem"
            data-band=${b.attempt}
            style=${`left:${x(b.start)};transform:none`}
            title=${`attempt ${b.attempt}: ${clock(b.start)} → ${b.open ? "now" : clock(b.end)}`}
          >attempt ${b.attempt}</span>`,
        )}
      </div>
    </div>
    <div class="tl-scroll" style=${`height:${viewport}px`} onScroll=${win.onScroll} tabindex="0" aria-label="Timeline lanes, scrollable">
      <div class="tl-body" style=${`height:${win.height}px`} role="list" aria-label="Timeline" aria-rowcount=${rows.length}>
        <div style="position:absolute;top:0;bottom:0;left:var(--label-w);right:0" aria-hidden="true">
          ${tl.bands.map(
            (b, i) =>
              html`<div class=${`tl-band ${i % 2 ? "odd" : "even"}`} style=${`left:${x(b.start)};width:${w(b.start, b.end)}`}></div>`,
          )}
        </div>
        ${rows.slice(win.first, win.last).map(
          (l, i) => html`<div
            class=${`tl-lane ${l.kind}`}
            role="listitem"
            key=${l.key}
            data-lane=${l.key}
            aria-label=${laneSummary(l, tl.start)}
            style=${`top:${(win.first + i) * ROW}px;height:${ROW}px`}
          >
            ${label(l)}
            <div class="tl-track">${l.spans.map(span)}${l.markers.map((m) => marker(m, l))}</div>
          </div>`,
        )}
      </div>
    </div>
  </div>
  <div class="legend" aria-hidden="true">
    <span><i class="tl-span pending"></i>pending</span>
    <span><i class="tl-span suspended"></i>suspended / waiting</span>
    <span><i class="tl-span running"></i>running</span>
    <span><i class="tl-span succeeded"></i>succeeded</span>
    <span><i class="tl-span failed"></i>failed</span>
    <span><i class="tl-marker failure"></i>failure</span>
    <span><i class="tl-marker condition"></i>condition</span>
    <span><i class="tl-marker"></i>event</span>
    <span><i class="tl-band even" style="position:static;display:inline-block;width:18px;height:10px"></i>restart attempt</span>
  </div>`;
}
