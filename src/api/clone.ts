// Deep copies of JSON values.

/**
 * A deep copy of a JSON value: plain objects and arrays are copied by a walk, several times cheaper than
 * structuredClone (what the webhooks copy before they modify a request, what each child Job starts from);
 * anything else is structuredClone'd.
 */
export function cloneJSON<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = cloneJSON(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in src) {
    if (k === "__proto__") {
      Object.defineProperty(out, k, { value: cloneJSON(src[k]), enumerable: true, writable: true, configurable: true });
    } else out[k] = cloneJSON(src[k]);
  }
  return out as T;
}
