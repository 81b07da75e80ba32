// The fake kubelet's view of its pods: a list, then a watch of every scheduled pod (the kubelet filters
// by node), resumed from the last resourceVersion; relist on 410 Gone, reconnect with back-off on errors.
import type { Pod } from "../api/k8s.ts";
import { isGone, type KubeClient } from "../runtime/client.ts";
import { Resources, resourcePath } from "../runtime/resources.ts";
import { delay, errMsg, type KubeletLog, type KubeletStats } from "./kubelet-context.ts";

export interface PodWatchHandlers {
  /** Every pod of a (re)list, and every watch event but bookmarks. */
  onPod(type: "ADDED" | "MODIFIED" | "DELETED", pod: Pod): void;
  /** After a (re)list was handled, with the UIDs it held (pods not among them are gone). */
  onList(uids: Set<string>): void;
}

export interface PodWatchOptions {
  client: KubeClient;
  log: KubeletLog;
  stats: KubeletStats;
  signal: AbortSignal;
}

/** Lists and watches until `signal` aborts; never rejects for API errors (it retries them). */
export async function watchScheduledPods(o: PodWatchOptions, h: PodWatchHandlers): Promise<void> {
  const path = resourcePath(Resources.pods);
  const fieldSelector = "spec.nodeName!=";
  let rv: string | undefined;
  let backoff = 100;
  while (!o.signal.aborted) {
    try {
      if (rv === undefined) {
        const list = await o.client.list<Pod>(path, { fieldSelector });
        rv = list.metadata.resourceVersion ?? "0";
        const seen = new Set<string>();
        for (const pod of list.items) {
          seen.add(pod.metadata?.uid ?? "");
          h.onPod("MODIFIED", pod);
        }
        h.onList(seen);
      }
      const events = o.client.watch<Pod>(
        path,
        {
          fieldSelector,
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: 240 + Math.floor(Math.random() * 120),
        },
        o.signal,
      );
      for await (const ev of events) {
        const evRv = ev.object.metadata?.resourceVersion;
        if (evRv) rv = evRv;
        if (ev.type === "BOOKMARK") continue;
        if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED") h.onPod(ev.type, ev.object);
        backoff = 100;
      }
      o.stats.watchRestarts++;
    } catch (e) {
      if (o.signal.aborted) return;
      if (isGone(e)) {
        o.log("info", "pod watch expired (410), relisting");
        o.stats.relists++;
        rv = undefined;
        continue;
      }
      o.stats.watchRestarts++;
      o.log("warn", "pod watch failed, retrying", { error: errMsg(e), backoffMs: backoff });
      await delay(backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}
