// The one home of the RFC 3339 time formats Kubernetes objects carry, all in UTC with a `Z`:
//
//   rfc3339      metav1.Time: whole seconds            2026-01-02T03:04:05Z
//   microTime    metav1.MicroTime: six fraction digits  2026-01-02T03:04:05.123456Z
//   rfc3339Nano  Go's time.RFC3339Nano: the fraction without trailing zeros (log timestamps)
//
// Each takes a Date or epoch milliseconds (a fraction of a millisecond counts for microTime).

const epochMs = (t: Date | number): number => (typeof t === "number" ? t : t.getTime());

/** metav1.Time: RFC 3339 with second resolution, UTC (conditions, startTime, build dates). */
export function rfc3339(t: Date | number): string {
  return `${new Date(epochMs(t)).toISOString().slice(0, 19)}Z`;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, UTC (events, leases). */
export function microTime(t: Date | number): string {
  const ms = epochMs(t);
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.max(0, Math.floor((ms - whole) * 1000)));
  return `${new Date(whole).toISOString().slice(0, 23)}${String(micros).padStart(3, "0")}Z`;
}

/** Go's time.RFC3339Nano: the fraction with its trailing zeros dropped (none when it is zero). */
export function rfc3339Nano(t: Date | number): string {
  const iso = new Date(epochMs(t)).toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ""}Z`;
}
