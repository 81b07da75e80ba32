// Bounded parallelism (a tiny p-limit): run async work over a list with at most `limit` calls in
// flight, the way upstream's `workqueue.ParallelizeUntil(ctx, 50, ...)` fans out creates and deletes.
// Results keep the input order; one failure never cancels the others (every item is attempted, the
// caller joins the errors).

/** Upstream's fan-out for Job creates and deletes. */
export const MaxParallelism = 50;

/** A limiter: `limit(fn)` runs `fn` when fewer than `n` limited calls are in flight. */
export function pLimit(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  const max = Math.max(1, Math.floor(n));
  let active = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    active--;
    waiting.shift()?.();
  };
  return <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        active++;
        let p: Promise<T>;
        try {
          p = Promise.resolve(fn());
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(next);
      };
      if (active < max) run();
      else waiting.push(run);
    });
}

/**
 * Calls `fn` for every item, at most `limit` at a time, and settles with one result per item in input
 * order (never rejects).
 */
export async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    for (let i = nextIndex++; i < items.length; i = nextIndex++) {
      try {
        results[i] = { status: "fulfilled", value: await fn(items[i] as T, i) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  const workers = Math.min(Math.max(1, Math.floor(limit)), items.length);
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return results;
}
