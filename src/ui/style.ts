// The UI's stylesheet: system fonts, light and dark (prefers-color-scheme), visible focus, state colors
// that differ in more than hue (badges carry their word; timeline spans have patterns for waits).
export const stylesheet = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1f24; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; --accent: #0969da;
  --pending: #bf8700; --suspended: #8c959f; --running: #0969da; --succeeded: #1a7f37; --failed: #cf222e;
  --band-a: rgba(9, 105, 218, 0.06); --band-b: rgba(130, 80, 223, 0.10); --focus: #0969da;
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --panel: #151b23; --accent: #4493f8;
    --pending: #d29922; --suspended: #6e7681; --running: #4493f8; --succeeded: #3fb950; --failed: #f85149;
    --band-a: rgba(68, 147, 248, 0.08); --band-b: rgba(171, 125, 248, 0.13); --focus: #4493f8;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 var(--font); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
button, select, input { font: inherit; color: inherit; }
button {
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 3px 10px; cursor: pointer;
}
button:hover { border-color: var(--muted); }
button:disabled { opacity: .45; cursor: default; }
button.danger { color: var(--failed); }
button.link { border: none; background: none; color: var(--accent); padding: 0 4px; }
select, input[type=text] { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 3px 8px; }
header.top {
  display: flex; align-items: center; gap: 16px; padding: 10px 20px; border-bottom: 1px solid var(--line);
  background: var(--panel); position: sticky; top: 0; z-index: 5;
}
header.top h1 { font-size: 16px; margin: 0; }
header.top .spacer { flex: 1; }
.conn { font-size: 12px; color: var(--muted); }
.conn::before { content: "●"; margin-right: 4px; color: var(--succeeded); }
.conn.off::before { color: var(--pending); }
main { padding: 16px 20px 40px; max-width: 1400px; margin: 0 auto; }
h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 24px 0 8px; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); font-size: 12.5px; }
table.list { width: 100%; border-collapse: collapse; }
table.list th, table.list td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.list th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
table.list td.num, table.list th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.list tbody tr:hover { background: var(--panel); }
.badge {
  display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; line-height: 20px;
  border: 1px solid currentColor;
}
.s-Completed, .s-Complete, .s-Succeeded, .s-succeeded { color: var(--succeeded); }
.s-Failed, .s-Failing, .s-failed { color: var(--failed); }
.s-Running, .s-running { color: var(--running); }
.s-Pending, .s-pending, .s-Completing { color: var(--pending); }
.s-Suspended, .s-Restarting, .s-suspended, .s-Terminating { color: var(--suspended); }
.s-Restarting { color: var(--pending); }
.toolbar { display: flex; align-items: center; gap: 10px; margin: 8px 0 12px; flex-wrap: wrap; }
.summary { display: flex; gap: 24px; flex-wrap: wrap; margin: 8px 0; }
.summary div { min-width: 90px; }
.summary dt { font-size: 12px; color: var(--muted); }
.summary dd { margin: 0; font-weight: 600; }
.panel { border: 1px solid var(--line); border-radius: 8px; background: var(--bg); }
.empty { padding: 24px; text-align: center; color: var(--muted); }
.error { color: var(--failed); margin: 8px 0; }

/* timeline */
.tl { position: relative; }
.tl-head { display: grid; grid-template-columns: var(--label-w) 1fr; border-bottom: 1px solid var(--line); }
.tl-axis { position: relative; height: 24px; font-size: 11px; color: var(--muted); overflow: hidden; }
.tl-axis span { position: absolute; top: 4px; transform: translateX(-50%); white-space: nowrap; }
.tl-scroll { overflow-y: auto; position: relative; }
.tl-body { position: relative; }
.tl-band { position: absolute; top: 0; bottom: 0; border-left: 1px dashed var(--line); }
.tl-band.even { background: var(--band-a); }
.tl-band.odd { background: var(--band-b); }
.tl-band-label { position: absolute; top: 2px; left: 4px; font-size: 11px; color: var(--muted); white-space: nowrap; }
.tl-lane { position: absolute; left: 0; right: 0; display: grid; grid-template-columns: var(--label-w) 1fr; align-items: center; }
.tl-lane:hover { background: rgba(127, 127, 127, 0.08); }
.tl-lane.jobset { font-weight: 600; }
.tl-label { padding: 0 8px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: var(--mono); font-size: 12px; display: flex; align-items: center; gap: 2px; }
.tl-label .indent { width: 18px; flex: none; }
.tl-label button { padding: 0 4px; line-height: 16px; border: none; background: none; color: var(--muted); }
.tl-track { position: relative; height: 100%; }
.tl-span { position: absolute; top: 5px; bottom: 5px; border-radius: 3px; min-width: 2px; }
.tl-span.pending { background: repeating-linear-gradient(135deg, var(--pending) 0 3px, transparent 3px 6px); border: 1px solid var(--pending); }
.tl-span.suspended { background: repeating-linear-gradient(135deg, var(--suspended) 0 2px, transparent 2px 6px); border: 1px solid var(--suspended); }
.tl-span.running { background: var(--running); }
.tl-span.succeeded { background: var(--succeeded); opacity: .55; }
.tl-span.failed { background: var(--failed); opacity: .55; }
.tl-span.open { border-top-right-radius: 0; border-bottom-right-radius: 0; }
.tl-marker {
  position: absolute; top: 50%; width: 11px; height: 11px; margin: -6px 0 0 -6px; transform: rotate(45deg);
  background: var(--bg); border: 2px solid var(--muted); cursor: default;
}
.tl-marker.failure { background: var(--failed); border-color: var(--bg); width: 13px; height: 13px; margin: -7px 0 0 -7px; }
.tl-marker.success { background: var(--succeeded); border-color: var(--bg); }
.tl-marker.warning { border-color: var(--failed); }
.tl-marker.condition { border-color: var(--accent); border-radius: 50%; }
.tl-now { position: absolute; top: 0; bottom: 0; border-left: 2px solid var(--accent); opacity: .6; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin: 6px 0; align-items: center; }
.legend i { display: inline-block; width: 18px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; position: static; }
.legend i.tl-marker { width: 9px; height: 9px; margin: 0 6px 0 2px; transform: rotate(45deg); }

/* tree */
.tree { font-family: var(--mono); font-size: 12.5px; overflow-y: auto; position: relative; }
.tree-row { position: absolute; left: 0; right: 0; display: flex; align-items: center; gap: 8px; padding: 0 10px; white-space: nowrap; }
.tree-row:hover { background: var(--panel); }
.tree-row .guide { color: var(--muted); white-space: pre; }

/* logs */
.logs-head { display: flex; gap: 10px; align-items: center; padding: 8px 10px; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
pre.log { margin: 0; padding: 10px; max-height: 420px; overflow: auto; font: 12.5px/1.4 var(--mono); white-space: pre-wrap; word-break: break-all; }

/* events */
table.events td { white-space: normal; }
dialog { border: 1px solid var(--line); border-radius: 10px; background: var(--bg); color: var(--fg); max-width: 460px; }
dialog::backdrop { background: rgba(0, 0, 0, .4); }
dialog form { display: grid; gap: 10px; }
dialog .row { display: flex; gap: 8px; justify-content: flex-end; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
