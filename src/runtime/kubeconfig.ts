// Kubeconfig loading and authentication, without @kubernetes/client-node (whose module load costs the
// process ≈ 85 MiB and ≈ 0.5 s: it loads its whole generated API). See docs/adr/0011-own-kubeconfig-loader.md.
//
// What is supported, as kubectl / client-go do it:
// - where: an explicit file; else $KUBECONFIG (several files, path-list separated: for each cluster, user
//   and context name the first file that defines it wins, and the first file with a current-context sets
//   it; missing files are skipped); else ~/.kube/config; else the in-cluster service account;
// - contexts (current-context or an explicit one) and their namespace;
// - clusters: server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name, proxy-url
//   (http/https proxies);
// - users: client-certificate(-data) / client-key(-data), token, tokenFile (re-read every minute; it wins
//   over token, which stays the fallback while the file cannot be read), username/password, impersonation
//   (as, as-groups), and exec credential plugins (client.authentication.k8s.io/v1 and v1beta1: tokens or
//   client certificates, cached until their expirationTimestamp, interactiveMode, provideClusterInfo);
// - relative file paths in a kubeconfig are relative to that file's directory.
// Legacy `auth-provider` entries (gcp, azure, oidc) are refused with a pointer to exec plugins, as
// kubectl itself removed them.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { parse as parseYaml } from "yaml";

export interface KubeCluster {
  server: string;
  certificateAuthority?: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface ExecEnvVar {
  name: string;
  value: string;
}

export type ExecInteractiveMode = "Never" | "IfAvailable" | "Always";

export interface ExecConfig {
  apiVersion: string;
  command: string;
  args: string[];
  env: ExecEnvVar[];
  interactiveMode: ExecInteractiveMode;
  provideClusterInfo: boolean;
  installHint?: string;
}

export interface KubeUser {
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  as?: string;
  asGroups?: string[];
  exec?: ExecConfig;
  authProvider?: string;
}

export interface KubeContext {
  cluster: string;
  user: string;
  namespace?: string;
}

/** The merged content of one or more kubeconfig files. */
export interface KubeConfigData {
  clusters: Map<string, KubeCluster>;
  users: Map<string, KubeUser>;
  contexts: Map<string, KubeContext>;
  currentContext?: string;
  /** The files read, in order (for messages). */
  files: string[];
}

/** What a request needs to authenticate: headers, and a client certificate when the credentials are one. */
export interface Credentials {
  headers: Record<string, string>;
  cert?: string;
  key?: string;
}

/** Credentials that may change over time (token files, exec plugins). */
export interface CredentialSource {
  get(): Promise<Credentials>;
  /** The server answered 401: forget cached credentials so the next request fetches new ones. */
  invalidate(): void;
}

export interface TlsSettings {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** A kubeconfig context resolved into everything a client needs. */
export interface ResolvedKubeConfig {
  /** Where it came from: file paths, or "in-cluster". */
  source: string;
  /** The context used (undefined in-cluster). */
  context?: string;
  server: string;
  namespace: string;
  tls: TlsSettings;
  proxyUrl?: string;
  credentials: CredentialSource;
}

export interface LoadOptions {
  /** An explicit kubeconfig file (only that file is read). */
  kubeconfig?: string;
  /** A context other than the current-context. */
  context?: string;
  /** Environment (default process.env): KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, POD_NAMESPACE. */
  env?: NodeJS.ProcessEnv;
  /** Home directory (default os.homedir()). */
  home?: string;
  /** The service-account directory (default /var/run/secrets/kubernetes.io/serviceaccount). */
  serviceAccountDir?: string;
  /** Clock for credential caches (ms). */
  now?: () => number;
  /** Whether standard input is a terminal (exec plugins' interactive mode; default process.stdin.isTTY). */
  stdinIsTTY?: boolean;
}

export const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long a token read from a file is used before the file is read again (client-go: one minute). */
export const TokenFileRefreshMs = 60_000;

export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeConfigError";
  }
}

// ------------------------------------------------------------------------------------------- parsing

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

class FieldReader {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  fail(path: string, what: string): never {
    throw new KubeConfigError(`kubeconfig ${this.file}: ${path}: ${what}`);
  }
  str(o: Obj, key: string, path: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") this.fail(`${path}.${key}`, `must be a string, not ${JSON.stringify(v)}`);
    return v;
  }
  bool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") this.fail(`${path}.${key}`, `must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }
  strings(o: Obj, key: string, path: string): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
      this.fail(`${path}.${key}`, "must be a list of strings");
    return v as string[];
  }
  obj(o: Obj, key: string, path: string): Obj | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) this.fail(`${path}.${key}`, "must be a mapping");
    return v;
  }
  /** A path relative to the kubeconfig file's directory, as kubectl resolves them. */
  filePath(o: Obj, key: string, path: string): string | undefined {
    const v = this.str(o, key, path);
    if (v === undefined || v === "") return undefined;
    return isAbsolute(v) ? v : resolve(dirname(this.file), v);
  }
}

/** Parses one kubeconfig document (`text` from `file`, used for messages and relative paths). */
export function parseKubeConfig(text: string, file: string): KubeConfigData {
  const r: FieldReader = new FieldReader(file);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KubeConfigError(`kubeconfig ${file}: not valid YAML: ${(e as Error).message}`);
  }
  const out: KubeConfigData = { clusters: new Map(), users: new Map(), contexts: new Map(), files: [file] };
  if (doc === null || doc === undefined) return out;
  if (!isObj(doc)) r.fail("(root)", "must be a mapping (apiVersion: v1, kind: Config)");
  const current = r.str(doc, "current-context", "");
  if (current) out.currentContext = current;

  const named = (key: string, inner: string, each: (name: string, body: Obj, path: string) => void) => {
    const list = doc[key];
    if (list === undefined || list === null) return;
    if (!Array.isArray(list)) r.fail(key, "must be a list");
    list.forEach((item: unknown, i) => {
      const path = `${key}[${i}]`;
      if (!isObj(item)) r.fail(path, "must be a mapping with name and " + inner);
      const name = r.str(item, "name", path);
      if (!name) r.fail(`${path}.name`, "required");
      each(name, r.obj(item, inner, path) ?? {}, `${path}.${inner}`);
    });
  };

  named("clusters", "cluster", (name, c, path) => {
    const server = r.str(c, "server", path) ?? "";
    const cluster: KubeCluster = { server };
    const ca = r.filePath(c, "certificate-authority", path);
    if (ca) cluster.certificateAuthority = ca;
    const caData = r.str(c, "certificate-authority-data", path);
    if (caData) cluster.certificateAuthorityData = caData;
    const insecure = r.bool(c, "insecure-skip-tls-verify", path);
    if (insecure !== undefined) cluster.insecureSkipTlsVerify = insecure;
    const sni = r.str(c, "tls-server-name", path);
    if (sni) cluster.tlsServerName = sni;
    const proxy = r.str(c, "proxy-url", path);
    if (proxy) cluster.proxyUrl = proxy;
    if (!out.clusters.has(name)) out.clusters.set(name, cluster);
  });

  named("users", "user", (name, u, path) => {
    const user: KubeUser = {};
    const set = <K extends keyof KubeUser>(k: K, v: KubeUser[K] | undefined) => {
      if (v !== undefined && v !== "") user[k] = v;
    };
    set("clientCertificate", r.filePath(u, "client-certificate", path));
    set("clientCertificateData", r.str(u, "client-certificate-data", path));
    set("clientKey", r.filePath(u, "client-key", path));
    set("clientKeyData", r.str(u, "client-key-data", path));
    set("token", r.str(u, "token", path));
    set("tokenFile", r.filePath(u, "tokenFile", path));
    set("username", r.str(u, "username", path));
    set("password", r.str(u, "password", path));
    set("as", r.str(u, "as", path));
    set("asGroups", r.strings(u, "as-groups", path));
    const provider = r.obj(u, "auth-provider", path);
    if (provider) set("authProvider", r.str(provider, "name", `${path}.auth-provider`) ?? "(unnamed)");
    const exec = r.obj(u, "exec", path);
    if (exec) user.exec = parseExec(r, exec, `${path}.exec`);
    if (!out.users.has(name)) out.users.set(name, user);
  });

  named("contexts", "context", (name, c, path) => {
    const ctx: KubeContext = { cluster: r.str(c, "cluster", path) ?? "", user: r.str(c, "user", path) ?? "" };
    const ns = r.str(c, "namespace", path);
    if (ns) ctx.namespace = ns;
    if (!out.contexts.has(name)) out.contexts.set(name, ctx);
  });
  return out;
}

const ExecApiVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];

function parseExec(r: FieldReader, e: Obj, path: string): ExecConfig {
  const apiVersion = r.str(e, "apiVersion", path);
  if (!apiVersion) r.fail(`${path}.apiVersion`, `required (one of ${ExecApiVersions.join(", ")})`);
  if (!ExecApiVersions.includes(apiVersion))
    r.fail(`${path}.apiVersion`, `"${apiVersion}" is not supported (use one of ${ExecApiVersions.join(", ")})`);
  let command = r.str(e, "command", path);
  if (!command) r.fail(`${path}.command`, "required");
  // a command with a directory part is relative to the kubeconfig's directory; a bare name is looked up in PATH
  if (!isAbsolute(command) && (command.includes("/") || command.includes(sep)))
    command = resolve(dirname(r.file), command);
  const env: ExecEnvVar[] = [];
  const rawEnv = e.env;
  if (rawEnv !== undefined && rawEnv !== null) {
    if (!Array.isArray(rawEnv)) r.fail(`${path}.env`, "must be a list of {name, value}");
    rawEnv.forEach((v: unknown, i) => {
      if (!isObj(v)) r.fail(`${path}.env[${i}]`, "must be a mapping with name and value");
      const name = r.str(v, "name", `${path}.env[${i}]`);
      if (!name) r.fail(`${path}.env[${i}].name`, "required");
      env.push({ name, value: r.str(v, "value", `${path}.env[${i}]`) ?? "" });
    });
  }
  const mode = r.str(e, "interactiveMode", path);
  let interactiveMode: ExecInteractiveMode;
  if (mode === undefined || mode === "") {
    if (apiVersion === "client.authentication.k8s.io/v1")
      r.fail(`${path}.interactiveMode`, "required for client.authentication.k8s.io/v1 (Never, IfAvailable or Always)");
    interactiveMode = "IfAvailable";
  } else if (mode === "Never" || mode === "IfAvailable" || mode === "Always") interactiveMode = mode;
  else r.fail(`${path}.interactiveMode`, `"${mode}" is not one of Never, IfAvailable, Always`);
  const out: ExecConfig = {
    apiVersion,
    command,
    args: r.strings(e, "args", path) ?? [],
    env,
    interactiveMode,
    provideClusterInfo: r.bool(e, "provideClusterInfo", path) ?? false,
  };
  const hint = r.str(e, "installHint", path);
  if (hint) out.installHint = hint;
  return out;
}

/** Merges kubeconfigs as kubectl does: the first to define a name, and the first current-context, win. */
export function mergeKubeConfigs(configs: KubeConfigData[]): KubeConfigData {
  const out: KubeConfigData = { clusters: new Map(), users: new Map(), contexts: new Map(), files: [] };
  for (const c of configs) {
    out.files.push(...c.files);
    if (out.currentContext === undefined && c.currentContext) out.currentContext = c.currentContext;
    for (const [k, v] of c.clusters) if (!out.clusters.has(k)) out.clusters.set(k, v);
    for (const [k, v] of c.users) if (!out.users.has(k)) out.users.set(k, v);
    for (const [k, v] of c.contexts) if (!out.contexts.has(k)) out.contexts.set(k, v);
  }
  return out;
}

function readKubeConfigFile(file: string): KubeConfigData {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KubeConfigError(
      `cannot read kubeconfig ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
  return parseKubeConfig(text, file);
}

// ------------------------------------------------------------------------------------------- loading

/**
 * Finds and loads the kubeconfig (explicit file, $KUBECONFIG, ~/.kube/config, in-cluster) and resolves
 * the context into a server, TLS settings and credentials. Throws KubeConfigError with what to do next.
 */
export function loadKubeConfig(o: LoadOptions = {}): ResolvedKubeConfig {
  const env = o.env ?? process.env;
  if (o.kubeconfig) return resolveContext(readKubeConfigFile(o.kubeconfig), o);
  const list = (env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "");
  if (list.length > 0) {
    const present = list.filter((f) => existsSync(f));
    if (present.length === 0)
      throw new KubeConfigError(`none of the files in KUBECONFIG exist (${list.join(delimiter)}): fix KUBECONFIG`);
    return resolveContext(mergeKubeConfigs(present.map(readKubeConfigFile)), o);
  }
  const home = join(o.home ?? homedir(), ".kube", "config");
  if (existsSync(home)) return resolveContext(readKubeConfigFile(home), o);
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    if (o.context)
      throw new KubeConfigError(`--context ${o.context}: there is no kubeconfig (in-cluster configuration has none)`);
    return inClusterConfig(o);
  }
  throw new KubeConfigError(
    "no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config (or start a local cluster with `jobset up`)",
  );
}

/** The in-cluster configuration: the service account's token (re-read every minute), CA and namespace. */
export function inClusterConfig(o: LoadOptions = {}): ResolvedKubeConfig {
  const env = o.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeConfigError(
      "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; pass --kubeconfig",
    );
  const dir = o.serviceAccountDir ?? ServiceAccountDir;
  const tokenFile = join(dir, "token");
  if (!existsSync(tokenFile))
    throw new KubeConfigError(`in-cluster configuration: no service-account token at ${tokenFile}`);
  const caFile = join(dir, "ca.crt");
  let namespace = env.POD_NAMESPACE || "";
  if (!namespace) {
    try {
      namespace = readFileSync(join(dir, "namespace"), "utf8").trim();
    } catch {
      namespace = "";
    }
  }
  const tls: TlsSettings = { rejectUnauthorized: true };
  if (existsSync(caFile)) tls.ca = readFileSync(caFile, "utf8");
  return {
    source: "in-cluster",
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    namespace: namespace || "default",
    tls,
    credentials: new TokenFileSource(tokenFile, undefined, o.now),
  };
}

const decodeData = (b64: string, field: string, where: string): string => {
  const buf = Buffer.from(b64, "base64");
  if (buf.length === 0) throw new KubeConfigError(`kubeconfig ${where}: ${field}: not valid base64 data`);
  return buf.toString("utf8");
};

const readData = (file: string, field: string, where: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new KubeConfigError(`kubeconfig ${where}: ${field}: cannot read ${file}: ${(e as Error).message}`);
  }
};

/** Resolves a context (the given one, else current-context) of loaded kubeconfig data. */
export function resolveContext(data: KubeConfigData, o: LoadOptions = {}): ResolvedKubeConfig {
  const where = data.files.join(delimiter);
  const name = o.context || data.currentContext;
  const known = [...data.contexts.keys()];
  const list = known.length > 0 ? ` (contexts: ${known.join(", ")})` : " (it defines no contexts)";
  if (!name) throw new KubeConfigError(`kubeconfig ${where} has no current-context: pass --context NAME${list}`);
  const ctx = data.contexts.get(name);
  if (!ctx) throw new KubeConfigError(`kubeconfig ${where}: context "${name}" not found${list}`);
  const cluster = data.clusters.get(ctx.cluster);
  if (!cluster)
    throw new KubeConfigError(`kubeconfig ${where}: cluster "${ctx.cluster}" of context "${name}" not found`);
  if (!cluster.server)
    throw new KubeConfigError(
      `kubeconfig ${where}: cluster "${ctx.cluster}" has no server: set clusters[].cluster.server`,
    );
  let user: KubeUser = {};
  if (ctx.user) {
    const u = data.users.get(ctx.user);
    if (!u) throw new KubeConfigError(`kubeconfig ${where}: user "${ctx.user}" of context "${name}" not found`);
    user = u;
  }
  const at = `${where} (user "${ctx.user}")`;
  if (user.authProvider)
    throw new KubeConfigError(
      `kubeconfig ${at}: auth-provider "${user.authProvider}" is not supported (kubectl removed these too): use the provider's exec credential plugin instead`,
    );

  const tls: TlsSettings = { rejectUnauthorized: !cluster.insecureSkipTlsVerify };
  if (cluster.certificateAuthorityData)
    tls.ca = decodeData(cluster.certificateAuthorityData, "certificate-authority-data", where);
  else if (cluster.certificateAuthority)
    tls.ca = readData(cluster.certificateAuthority, "certificate-authority", where);
  if (tls.ca !== undefined && cluster.insecureSkipTlsVerify)
    throw new KubeConfigError(
      `kubeconfig ${where}: cluster "${ctx.cluster}": certificate-authority and insecure-skip-tls-verify exclude each other: remove one`,
    );
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  if (user.clientCertificateData) tls.cert = decodeData(user.clientCertificateData, "client-certificate-data", at);
  else if (user.clientCertificate) tls.cert = readData(user.clientCertificate, "client-certificate", at);
  if (user.clientKeyData) tls.key = decodeData(user.clientKeyData, "client-key-data", at);
  else if (user.clientKey) tls.key = readData(user.clientKey, "client-key", at);
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new KubeConfigError(`kubeconfig ${at}: a client certificate needs both a certificate and a key`);

  const fixed: Record<string, string> = {};
  if (user.as) fixed["impersonate-user"] = user.as;
  if (user.asGroups?.length) fixed["impersonate-group"] = user.asGroups.join(", ");
  let credentials: CredentialSource;
  if (user.exec) credentials = new ExecCredentialSource(user.exec, cluster, o);
  else if (user.tokenFile) credentials = new TokenFileSource(user.tokenFile, user.token, o.now);
  else if (user.token) credentials = new StaticSource({ authorization: `Bearer ${user.token}` });
  else if (user.username !== undefined || user.password !== undefined) {
    const basic = Buffer.from(`${user.username ?? ""}:${user.password ?? ""}`).toString("base64");
    credentials = new StaticSource({ authorization: `Basic ${basic}` });
  } else credentials = new StaticSource({});
  if (Object.keys(fixed).length > 0) credentials = withHeaders(credentials, fixed);

  const out: ResolvedKubeConfig = {
    source: where,
    context: name,
    server: cluster.server.replace(/\/+$/, ""),
    namespace: ctx.namespace || "default",
    tls,
    credentials,
  };
  if (cluster.proxyUrl) {
    const scheme = cluster.proxyUrl.split(":")[0];
    if (scheme !== "http" && scheme !== "https")
      throw new KubeConfigError(
        `kubeconfig ${where}: cluster "${ctx.cluster}": proxy-url ${cluster.proxyUrl}: only http and https proxies are supported`,
      );
    out.proxyUrl = cluster.proxyUrl;
  }
  return out;
}

// ------------------------------------------------------------------------------------------- credentials

class StaticSource implements CredentialSource {
  private readonly creds: Credentials;
  constructor(headers: Record<string, string>) {
    this.creds = { headers };
  }
  get(): Promise<Credentials> {
    return Promise.resolve(this.creds);
  }
  invalidate(): void {}
}

function withHeaders(inner: CredentialSource, extra: Record<string, string>): CredentialSource {
  return {
    async get() {
      const c = await inner.get();
      return { ...c, headers: { ...c.headers, ...extra } };
    },
    invalidate: () => inner.invalidate(),
  };
}

/** A bearer token read from a file, read again once a minute (rotated service-account tokens). */
export class TokenFileSource implements CredentialSource {
  private readonly file: string;
  private readonly fallback: string | undefined;
  private readonly now: () => number;
  private token: string | undefined;
  private readAt = Number.NEGATIVE_INFINITY;
  constructor(file: string, fallback?: string, now: () => number = Date.now) {
    this.file = file;
    this.fallback = fallback;
    this.now = now;
  }
  get(): Promise<Credentials> {
    if (this.now() - this.readAt >= TokenFileRefreshMs) {
      try {
        const t = readFileSync(this.file, "utf8").trim();
        if (t) this.token = t;
        this.readAt = this.now();
      } catch (e) {
        // keep the last good token (or the kubeconfig's static one); fail only if there is none
        if (this.token === undefined && this.fallback === undefined)
          return Promise.reject(new KubeConfigError(`cannot read token file ${this.file}: ${(e as Error).message}`));
      }
    }
    const token = this.token ?? this.fallback;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return Promise.resolve({ headers });
  }
  invalidate(): void {
    this.readAt = Number.NEGATIVE_INFINITY;
  }
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** An exec credential plugin, run again when its credentials expire or the server answers 401. */
export class ExecCredentialSource implements CredentialSource {
  private readonly exec: ExecConfig;
  private readonly cluster: KubeCluster;
  private readonly o: LoadOptions;
  private cached: { creds: Credentials; expires: number } | undefined;
  private running: Promise<Credentials> | undefined;
  /** How many times the plugin ran (tests). */
  runs = 0;
  constructor(exec: ExecConfig, cluster: KubeCluster, o: LoadOptions = {}) {
    this.exec = exec;
    this.cluster = cluster;
    this.o = o;
  }
  private now(): number {
    return (this.o.now ?? Date.now)();
  }
  get(): Promise<Credentials> {
    if (this.cached && this.now() < this.cached.expires) return Promise.resolve(this.cached.creds);
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
  invalidate(): void {
    this.cached = undefined;
  }

  private interactive(): boolean {
    const tty = this.o.stdinIsTTY ?? process.stdin.isTTY === true;
    const mode = this.exec.interactiveMode;
    if (mode === "Never") return false;
    if (mode === "Always" && !tty)
      throw new KubeConfigError(
        `exec plugin ${this.exec.command} needs an interactive terminal (interactiveMode: Always) but standard input is not one: run it from a terminal or change interactiveMode`,
      );
    return tty;
  }

  private async run(): Promise<Credentials> {
    const e = this.exec;
    const interactive = this.interactive();
    const spec: Obj = { interactive };
    if (e.provideClusterInfo) {
      const c: Obj = { server: this.cluster.server };
      if (this.cluster.tlsServerName) c["tls-server-name"] = this.cluster.tlsServerName;
      if (this.cluster.insecureSkipTlsVerify) c["insecure-skip-tls-verify"] = true;
      if (this.cluster.certificateAuthorityData)
        c["certificate-authority-data"] = this.cluster.certificateAuthorityData;
      else if (this.cluster.certificateAuthority)
        c["certificate-authority-data"] = readFileSync(this.cluster.certificateAuthority).toString("base64");
      if (this.cluster.proxyUrl) c["proxy-url"] = this.cluster.proxyUrl;
      spec.cluster = c;
    }
    const env: NodeJS.ProcessEnv = { ...(this.o.env ?? process.env) };
    for (const v of e.env) env[v.name] = v.value;
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: e.apiVersion, kind: "ExecCredential", spec });
    this.runs++;
    const stdout = await new Promise<string>((resolveOut, reject) => {
      const child = spawn(e.command, e.args, { env, stdio: [interactive ? "inherit" : "ignore", "pipe", "inherit"] });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.on("error", (err: NodeJS.ErrnoException) => {
        const hint = e.installHint ? `\n${e.installHint}` : "";
        reject(
          new KubeConfigError(
            err.code === "ENOENT"
              ? `exec plugin ${e.command} not found: install it or fix users[].user.exec.command${hint}`
              : `exec plugin ${e.command} failed to start: ${err.message}`,
          ),
        );
      });
      child.on("close", (code, signal) => {
        if (code === 0) resolveOut(Buffer.concat(chunks).toString("utf8"));
        else
          reject(
            new KubeConfigError(
              `exec plugin ${e.command} exited with ${signal ?? `code ${code}`}: see its output above`,
            ),
          );
      });
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new KubeConfigError(`exec plugin ${e.command} did not print an ExecCredential JSON object`);
    }
    if (!isObj(parsed) || parsed.kind !== "ExecCredential")
      throw new KubeConfigError(`exec plugin ${e.command}: its output is not an ExecCredential (kind: ExecCredential)`);
    if (parsed.apiVersion !== e.apiVersion)
      throw new KubeConfigError(
        `exec plugin ${e.command} answered apiVersion ${String(parsed.apiVersion)}, but the kubeconfig asked for ${e.apiVersion}`,
      );
    const status = (isObj(parsed.status) ? parsed.status : {}) as ExecCredentialStatus;
    const creds: Credentials = { headers: {} };
    if (status.token) creds.headers.authorization = `Bearer ${status.token}`;
    if (status.clientCertificateData || status.clientKeyData) {
      if (!status.clientCertificateData || !status.clientKeyData)
        throw new KubeConfigError(
          `exec plugin ${e.command}: status.clientCertificateData and status.clientKeyData go together`,
        );
      creds.cert = status.clientCertificateData;
      creds.key = status.clientKeyData;
    }
    if (!status.token && !creds.cert)
      throw new KubeConfigError(
        `exec plugin ${e.command}: status has neither token nor clientCertificateData/clientKeyData`,
      );
    let expires = Number.POSITIVE_INFINITY;
    if (status.expirationTimestamp) {
      expires = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(expires))
        throw new KubeConfigError(
          `exec plugin ${e.command}: status.expirationTimestamp "${status.expirationTimestamp}" is not an RFC 3339 time`,
        );
    }
    this.cached = { creds, expires };
    return creds;
  }
}
