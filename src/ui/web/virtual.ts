/// <reference lib="dom" />
// Windowing for long lists: only the rows in view (plus a margin) are rendered, each absolutely placed at
// index × row height inside a container as tall as all rows. A 1,000-Job JobSet renders ~40 rows.
import { useCallback, useState } from "preact/hooks";

export const ROW = 24;
const MARGIN = 10;

export interface Window {
  first: number;
  last: number;
  height: number;
  onScroll: (e: Event) => void;
}

export function useWindow(count: number, viewport: number): Window {
  const [top, setTop] = useState(0);
  const onScroll = useCallback((e: Event) => setTop((e.currentTarget as HTMLElement).scrollTop), []);
  const first = Math.max(0, Math.floor(top / ROW) - MARGIN);
  const last = Math.min(count, Math.ceil((top + viewport) / ROW) + MARGIN);
  return { first, last, height: count * ROW, onScroll };
}
