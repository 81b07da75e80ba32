/// <reference lib="dom" />
// A pod's container log, through the UI server's pods/log stream: pick the container, follow or not.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Html, html } from "./html.ts";

const MAX_CHARS = 1 << 20;

interface Props {
  namespace: string;
  pod: string;
  containers: string[];
  onClose: () => void;
}

export function LogView({ namespace, pod, containers, onClose }: Props): Html {
  const [container, setContainer] = useState(containers[containers.length - 1] ?? "");
  const [follow, setFollow] = useState(true);
  const [text, setText] = useState("");
  const [status, setStatus] = useState("connecting…");
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (!containers.includes(container)) setContainer(containers[containers.length - 1] ?? "");
  }, [pod]);
  useEffect(() => {
    setText("");
    setStatus(follow ? "following" : "loading…");
    const q = new URLSearchParams({ container, tail: "5000" });
    if (follow) q.set("follow", "1");
    const es = new EventSource(`/api/logs/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}?${q}`);
    es.addEventListener("log", (e) => {
      const chunk = JSON.parse((e as MessageEvent<string>).data) as string;
      setText((t) => {
        const all = t + chunk;
        return all.length > MAX_CHARS ? all.slice(all.length - MAX_CHARS) : all;
      });
    });
    es.addEventListener("end", (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { reason: string; error?: boolean };
      setStatus(d.error ? `error: ${d.reason}` : "end of log");
      es.close();
    });
    es.onerror = () => {
      // The server answered with an error (pod gone, container not started) or the connection dropped.
      setStatus((s) =>
        s === "end of log" || s.startsWith("error") ? s : "no log available (the container may not have started)",
      );
      es.close();
    };
    return () => es.close();
  }, [namespace, pod, container, follow]);
  useEffect(() => {
    const el = pre.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [text]);
  return html`<section class="panel" aria-label=${`Logs of ${pod}`}>
    <div class="logs-head">
      <strong class="mono">${pod}</strong>
      <label>container <select value=${container} onChange=${(e: Event) => setContainer((e.currentTarget as HTMLSelectElement).value)}>
        ${containers.map((c) => html`<option value=${c}>${c}</option>`)}
      </select></label>
      <label><input type="checkbox" checked=${follow} onChange=${(e: Event) => setFollow((e.currentTarget as HTMLInputElement).checked)} /> follow</label>
      <span class="muted" role="status">${status}</span>
      <span style="flex:1"></span>
      <button onClick=${onClose} aria-label="Close the logs">Close</button>
    </div>
    <pre class="log" ref=${pre} tabindex="0" data-log=${pod}>${text || html`<span class="muted">(no output yet)</span>`}</pre>
  </section>`;
}
