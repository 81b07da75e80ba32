// The informer's cache, pure: objects keyed by `namespace/name` (or `name` when cluster-scoped), a
// namespace index, user indexes (`addIndex` / `byIndex`), and the two state transitions an informer
// needs — apply one watch event, replace everything with a fresh LIST — each returning the
// notifications (add / update / delete) it implies. No I/O, no timers.
import type { KubeObject } from "../api/k8s.ts";

/** `namespace/name`, or `name` for cluster-scoped objects (client-go MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by `objectKey`. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export type IndexFunc<T> = (obj: T) => string[];

export type Notification<T> = { type: "add"; obj: T } | { type: "update"; old: T; obj: T } | { type: "delete"; obj: T };

export interface WatchEventLike<T> {
  type: string;
  object: T;
}

/** Called when an index function throws: the object is then filed under no value of that index. */
export type IndexErrorHandler = (index: string, key: string, error: unknown) => void;

export class Store<T extends KubeObject = KubeObject> {
  private readonly onIndexError: IndexErrorHandler | undefined;
  private readonly items = new Map<string, T>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  // index name → index value → keys
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  // index name → key → values it was filed under (to unfile on update/delete)
  private readonly filed = new Map<string, Map<string, string[]>>();

  constructor(o: { onIndexError?: IndexErrorHandler } = {}) {
    this.onIndexError = o.onIndexError;
  }

  get size(): number {
    return this.items.size;
  }

  /** Adds an index; existing objects are indexed at once. Index names are unique. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`index ${JSON.stringify(name)} already exists`);
    this.indexers.set(name, fn);
    this.indices.set(name, new Map());
    this.filed.set(name, new Map());
    for (const [key, obj] of this.items) this.fileOne(name, fn, key, obj);
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  private fileOne(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    let values: string[];
    try {
      values = [...new Set(fn(obj))];
    } catch (e) {
      values = [];
      this.onIndexError?.(name, key, e);
    }
    const idx = this.indices.get(name) as Map<string, Set<string>>;
    for (const v of values) {
      const keys = idx.get(v);
      if (keys) keys.add(key);
      else idx.set(v, new Set([key]));
    }
    (this.filed.get(name) as Map<string, string[]>).set(key, values);
  }

  private unfileOne(name: string, key: string): void {
    const filed = this.filed.get(name) as Map<string, string[]>;
    const idx = this.indices.get(name) as Map<string, Set<string>>;
    for (const v of filed.get(key) ?? []) {
      const keys = idx.get(v);
      keys?.delete(key);
      if (keys?.size === 0) idx.delete(v);
    }
    filed.delete(key);
  }

  /** Stores `obj` (replacing the object with the same key); returns the replaced object. */
  set(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    if (!old) {
      const ns = obj.metadata?.namespace ?? "";
      const keys = this.byNamespace.get(ns);
      if (keys) keys.add(key);
      else this.byNamespace.set(ns, new Set([key]));
    }
    for (const [name, fn] of this.indexers) {
      if (old) this.unfileOne(name, key);
      this.fileOne(name, fn, key, obj);
    }
    return old;
  }

  /** Removes the object with `key`; returns it. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.items.delete(key);
    const ns = old.metadata?.namespace ?? "";
    const keys = this.byNamespace.get(ns);
    keys?.delete(key);
    if (keys?.size === 0) this.byNamespace.delete(ns);
    for (const name of this.indexers.keys()) this.unfileOne(name, key);
    return old;
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** The object `namespace/name` (namespace "" for cluster-scoped objects). */
  get(namespace: string, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Every object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    const keys = this.byNamespace.get(namespace);
    return keys ? [...keys].map((k) => this.items.get(k) as T) : [];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    return this.indexKeys(name, value).map((k) => this.items.get(k) as T);
  }

  /** Keys filed under `value` in index `name`. */
  indexKeys(name: string, value: string): string[] {
    const idx = this.indices.get(name);
    if (!idx) throw new Error(`index ${JSON.stringify(name)} does not exist`);
    const keys = idx.get(value);
    return keys ? [...keys] : [];
  }

  /** Every value of index `name` that has at least one object. */
  indexValues(name: string): string[] {
    const idx = this.indices.get(name);
    if (!idx) throw new Error(`index ${JSON.stringify(name)} does not exist`);
    return [...idx.keys()];
  }

  /** Applies one watch event; returns what handlers should be told (nothing for BOOKMARK/ERROR). */
  applyEvent(ev: WatchEventLike<T>): Notification<T> | undefined {
    switch (ev.type) {
      case "ADDED":
      case "MODIFIED": {
        const old = this.set(ev.object);
        return old ? { type: "update", old, obj: ev.object } : { type: "add", obj: ev.object };
      }
      case "DELETED": {
        const old = this.delete(objectKey(ev.object));
        return { type: "delete", obj: ev.object ?? old };
      }
      default:
        return undefined;
    }
  }

  /**
   * Replaces the contents with a fresh LIST: objects gone from the list are deleted, new ones added,
   * and ones whose resourceVersion changed updated. Returns the notifications (deletes first).
   */
  replace(items: readonly T[]): Notification<T>[] {
    const d = diffList(this.items, items);
    const out: Notification<T>[] = [];
    for (const obj of d.deleted) {
      this.delete(objectKey(obj));
      out.push({ type: "delete", obj });
    }
    for (const obj of d.added) {
      this.set(obj);
      out.push({ type: "add", obj });
    }
    for (const [old, obj] of d.updated) {
      this.set(obj);
      out.push({ type: "update", old, obj });
    }
    return out;
  }
}

export interface ListDiff<T> {
  added: T[];
  /** [cached, listed] pairs whose resourceVersion differs (or is unknown). */
  updated: [T, T][];
  /** Cached objects missing from the list (last known state). */
  deleted: T[];
  unchanged: number;
}

/** Compares a cache with a fresh LIST, by key and resourceVersion. */
export function diffList<T extends KubeObject>(cache: ReadonlyMap<string, T>, items: readonly T[]): ListDiff<T> {
  const seen = new Set<string>();
  const d: ListDiff<T> = { added: [], updated: [], deleted: [], unchanged: 0 };
  for (const obj of items) {
    const key = objectKey(obj);
    seen.add(key);
    const old = cache.get(key);
    if (!old) d.added.push(obj);
    else {
      const a = old.metadata?.resourceVersion;
      const b = obj.metadata?.resourceVersion;
      if (a && b && a === b) d.unchanged++;
      else d.updated.push([old, obj]);
    }
  }
  for (const [key, obj] of cache) if (!seen.has(key)) d.deleted.push(obj);
  return d;
}

/**
 * Index function: the UID of the object's controller owner, optionally only when that owner has the
 * given apiVersion and kind (spec §5.1: Jobs are indexed by their JobSet owner's UID).
 */
export function controllerOwnerIndex<T extends KubeObject>(apiVersion?: string, kind?: string): IndexFunc<T> {
  return (obj) => {
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      if (!ref.controller) continue;
      if (apiVersion !== undefined && ref.apiVersion !== apiVersion) continue;
      if (kind !== undefined && ref.kind !== kind) continue;
      return ref.uid ? [ref.uid] : [];
    }
    return [];
  };
}

/** Index function: `<namespace>/<value of label>` for objects carrying `label`. */
export function namespacedLabelIndex<T extends KubeObject>(label: string): IndexFunc<T> {
  return (obj) => {
    const v = obj.metadata?.labels?.[label];
    return v === undefined ? [] : [`${obj.metadata?.namespace ?? ""}/${v}`];
  };
}
