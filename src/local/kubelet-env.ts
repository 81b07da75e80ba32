// Container environment the way the kubelet builds it: envFrom, env values with $(VAR) expansion,
// downward-API fieldRef values, ConfigMap/Secret key references; and $(VAR) expansion of command and
// args. Pure: ConfigMap and Secret data are passed in (see envSources to know which to fetch).
import type { Container, Pod } from "../api/k8s.ts";

/**
 * Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): `$(NAME)` becomes the value of
 * NAME if it is defined, else stays as written; `$$` is an escaped `$`, so `$$(NAME)` gives the
 * literal `$(NAME)`; an unterminated `$(` and any other `$x` are kept as is.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === "$") {
      out += "$";
    } else if (rest[0] === "(") {
      const close = rest.indexOf(")", 1);
      if (close >= 0) {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      } else {
        out += "$(";
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

export interface PodRuntimeInfo {
  podIP?: string;
  hostIP?: string;
}

/** Resolves a downward-API fieldPath of a pod (the paths the kubelet supports for env). */
export function resolveFieldPath(pod: Pod, path: string, info: PodRuntimeInfo = {}): string | undefined {
  const sub = /^metadata\.(labels|annotations)\[(['"])(.*)\2\]$/.exec(path);
  if (sub) {
    const map = sub[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[sub[3] ?? ""] ?? "";
  }
  const fmt = (m: Record<string, string> = {}) =>
    Object.keys(m)
      .sort()
      .map((k) => `${k}="${m[k]}"`)
      .join("\n");
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "metadata.labels":
      return fmt(pod.metadata?.labels);
    case "metadata.annotations":
      return fmt(pod.metadata?.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
      return info.podIP ?? pod.status?.podIP ?? "";
    case "status.podIPs":
      return info.podIP ?? pod.status?.podIPs?.map((p) => p.ip).join(",") ?? "";
    case "status.hostIP":
      return info.hostIP ?? pod.status?.hostIP ?? "";
    case "status.hostIPs":
      return info.hostIP ?? pod.status?.hostIPs?.map((p) => p.ip).join(",") ?? "";
    default:
      return undefined;
  }
}

/** ConfigMap data by name; Secret data (base64, as the API returns it) by name. */
export interface EnvSources {
  configMaps: Record<string, Record<string, string> | undefined>;
  secrets: Record<string, Record<string, string> | undefined>;
}

/** The ConfigMaps and Secrets a container's environment refers to. */
export function envSources(container: Container): { configMaps: string[]; secrets: string[] } {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const f of container.envFrom ?? []) {
    if (f.configMapRef?.name) cms.add(f.configMapRef.name);
    if (f.secretRef?.name) secrets.add(f.secretRef.name);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) cms.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps: [...cms], secrets: [...secrets] };
}

export interface ResolvedEnv {
  /** Variables in definition order (later definitions of a name replace earlier ones). */
  env: Record<string, string>;
  /** References that are not supported or were optional and missing. */
  warnings: string[];
}

/** A required reference that cannot be resolved; the real kubelet reports CreateContainerConfigError. */
export class EnvError extends Error {}

const decodeSecret = (v: string): string => Buffer.from(v, "base64").toString("utf8");

/**
 * Builds a container's environment as the kubelet does: `base` (runtime defaults such as PATH and
 * HOSTNAME), then envFrom (in order, with prefixes), then env (each value $(VAR)-expanded against what
 * is defined so far). Throws EnvError for a missing non-optional ConfigMap/Secret (key).
 */
export function resolveEnv(
  pod: Pod,
  container: Container,
  info: PodRuntimeInfo = {},
  sources: EnvSources = { configMaps: {}, secrets: {} },
  base: Record<string, string> = {},
): ResolvedEnv {
  const env: Record<string, string> = { ...base };
  const warnings: string[] = [];
  for (const f of container.envFrom ?? []) {
    const prefix = f.prefix ?? "";
    if (f.configMapRef) {
      const name = f.configMapRef.name ?? "";
      const data = sources.configMaps[name];
      if (!data) {
        if (f.configMapRef.optional) continue;
        throw new EnvError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
    } else if (f.secretRef) {
      const name = f.secretRef.name ?? "";
      const data = sources.secrets[name];
      if (!data) {
        if (f.secretRef.optional) continue;
        throw new EnvError(`secret "${name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env[prefix + k] = decodeSecret(v);
    }
  }
  const lookup = (n: string) => (Object.hasOwn(env, n) ? env[n] : undefined);
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      env[e.name] = expandVars(e.value ?? "", lookup);
      continue;
    }
    if (vf.fieldRef) {
      const v = resolveFieldPath(pod, vf.fieldRef.fieldPath, info);
      if (v === undefined) warnings.push(`${e.name}: unsupported fieldPath ${vf.fieldRef.fieldPath}`);
      env[e.name] = v ?? "";
    } else if (vf.configMapKeyRef) {
      const { name = "", key, optional } = vf.configMapKeyRef;
      const v = sources.configMaps[name]?.[key];
      if (v === undefined) {
        if (optional) continue;
        throw new EnvError(`couldn't find key ${key} in ConfigMap ${pod.metadata?.namespace}/${name}`);
      }
      env[e.name] = v;
    } else if (vf.secretKeyRef) {
      const { name = "", key, optional } = vf.secretKeyRef;
      const v = sources.secrets[name]?.[key];
      if (v === undefined) {
        if (optional) continue;
        throw new EnvError(`couldn't find key ${key} in Secret ${pod.metadata?.namespace}/${name}`);
      }
      env[e.name] = decodeSecret(v);
    } else if (vf.resourceFieldRef) {
      const res = vf.resourceFieldRef.resource;
      const [kind, name] = res.split(".") as [string, string | undefined];
      const r = container.resources?.[kind === "limits" ? "limits" : "requests"]?.[name ?? ""];
      warnings.push(`${e.name}: resourceFieldRef ${res} gives the raw quantity, without divisor`);
      env[e.name] = r === undefined ? "" : String(r);
    } else {
      warnings.push(`${e.name}: unsupported valueFrom`);
    }
  }
  return { env, warnings };
}

/** The argv of a container: command then args, each $(VAR)-expanded against the container's env. */
export function containerArgv(container: Container, env: Record<string, string>): string[] {
  const lookup = (n: string) => (Object.hasOwn(env, n) ? env[n] : undefined);
  return [...(container.command ?? []), ...(container.args ?? [])].map((s) => expandVars(s, lookup));
}
