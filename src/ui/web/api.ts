/// <reference lib="dom" />
import { useEffect, useState } from "preact/hooks";
// The browser's side of the UI API: live streams (server-sent events; the browser reconnects on its own)
// and the confirmed actions (JSON POST with the page's CSRF token).

export type Handlers = Record<string, (data: unknown) => void>;

/** Opens a live stream; `onLive(false)` while disconnected. Returns a function that closes it. */
export function openStream(path: string, handlers: Handlers, onLive: (live: boolean) => void): () => void {
  const es = new EventSource(path);
  es.onopen = () => onLive(true);
  es.onerror = () => onLive(false);
  for (const [name, fn] of Object.entries(handlers))
    es.addEventListener(name, (e) => fn(JSON.parse((e as MessageEvent<string>).data)));
  return () => es.close();
}

const csrf = (): string => document.querySelector<HTMLMetaElement>('meta[name="jobset-ui-csrf"]')?.content ?? "";

export type Action = "suspend" | "resume" | "delete";

/** Sends a confirmed action; throws with the server's message when refused. */
export async function act(namespace: string, name: string, action: Action, confirm: string): Promise<void> {
  const res = await fetch(`/api/jobsets/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/action`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-jobset-ui-csrf": csrf() },
    body: JSON.stringify({ action, confirm }),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `HTTP ${res.status}`);
  }
}

/** "1m30s"-style durations (as kubectl's ages). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}

/** The current time, re-read every `everyMs` (ages tick without a push from the server). */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

// Shared formatters: toLocale*String builds a new one per call, which shows at hundreds of rows.
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export const clock = (t: number): string => timeFormat.format(t);
export const dateTime = (t: number): string => dateTimeFormat.format(t);
