// Installs CustomResourceDefinitions from manifests and waits until each is Established and every
// served version lists the resource in discovery (before that, creates of the kind would 404); and
// waitCreatable, which waits out the API server's hold on creates of a just-established kind.
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../api/k8s.ts";
import { isAlreadyExists, isNotFound, type KubeClient } from "../runtime/client.ts";
import { groupVersionPath, Resources, resourcePath } from "../runtime/resources.ts";

export interface CrdObject extends KubeObject {
  spec?: { group?: string; names?: { plural?: string }; versions?: { name: string; served?: boolean }[] };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
  };
}

const crdPath = (name?: string) => resourcePath({ ...Resources.customResourceDefinitions, name });

async function readCrds(paths: string[]): Promise<CrdObject[]> {
  const crds: CrdObject[] = [];
  for (const p of paths) {
    for (const doc of parseAllDocuments(await readFile(p, "utf8"))) {
      const o = doc.toJS() as CrdObject | null;
      if (o?.kind === "CustomResourceDefinition") crds.push(o);
    }
  }
  return crds;
}

/** Creates the CRD, or replaces the existing one's spec. */
async function apply(c: KubeClient, crd: CrdObject): Promise<void> {
  const name = crd.metadata?.name ?? "";
  try {
    await c.create(crdPath(), crd);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const cur = await c.get<CrdObject>(crdPath(name));
    await c.update(crdPath(name), {
      ...crd,
      metadata: { ...crd.metadata, resourceVersion: cur.metadata?.resourceVersion },
    });
  }
}

async function isServed(c: KubeClient, crd: CrdObject): Promise<boolean> {
  const cur = await c.get<CrdObject>(crdPath(crd.metadata?.name ?? ""));
  if (cur.status?.conditions?.find((x) => x.type === "Established")?.status !== "True") return false;
  const group = crd.spec?.group ?? "";
  const plural = crd.spec?.names?.plural ?? "";
  for (const v of (crd.spec?.versions ?? []).filter((x) => x.served !== false)) {
    try {
      const rl = await c.get<{ resources?: { name: string }[] }>(groupVersionPath({ group, version: v.name }));
      if (!(rl.resources ?? []).some((r) => r.name === plural)) return false;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      return false;
    }
  }
  return true;
}

/** Creates or updates the CRDs in these manifests and waits until each is Established and served. */
export async function installCrds(c: KubeClient, paths: string[], timeoutMs: number): Promise<void> {
  const crds = await readCrds(paths);
  for (const crd of crds) await apply(c, crd);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    while (!(await isServed(c, crd))) {
      if (Date.now() > deadline)
        throw new Error(`CRD ${crd.metadata?.name ?? ""} not Established and served after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const CREATE_HOLD_MS = 2_000;

/**
 * kube-apiserver holds every create of a custom resource for 2 s while its CRD became Established less
 * than 2 s ago (so that, with several API servers, none 404s a follow-up read): after a fresh install, the
 * first JobSet would wait there. This is how long that hold still applies to a CRD as read at `nowMs`
 * (the condition's time has whole seconds, as the API server compares it); 0 when it is over or the CRD
 * is not Established.
 */
export function createHoldMs(crd: CrdObject, nowMs: number): number {
  const established = crd.status?.conditions?.find((x) => x.type === "Established" && x.status === "True");
  const since = Date.parse(established?.lastTransitionTime ?? "");
  if (Number.isNaN(since)) return 0;
  return Math.max(0, since + CREATE_HOLD_MS - nowMs);
}

/** Returns once creates of these CRDs' kinds are no longer held (see createHoldMs). */
export async function waitCreatable(c: KubeClient, names: string[]): Promise<void> {
  for (const name of names) {
    const hold = createHoldMs(await c.get<CrdObject>(crdPath(name)), Date.now());
    // A few milliseconds past the end: the API server compares with its own clock when the request arrives.
    if (hold > 0) await new Promise((r) => setTimeout(r, hold + 20));
  }
}
