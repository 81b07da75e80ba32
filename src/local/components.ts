// The control plane's components, one function each: what flags it gets (pure, so a reader and a unit
// test see the whole command line) and how it is started and found healthy. Flags follow
// shared/spec/real-control-plane.md §3-§4. Each component takes extra flags last (a later flag wins),
// and kube-apiserver, kube-controller-manager and kube-scheduler share the feature gates.
import { Resources, resourcePath } from "../runtime/resources.ts";
import type { PkiFiles } from "./pki.ts";
import { type Component, type ProcessGroup, type TlsMaterial, waitHealthy } from "./processes.ts";

/** Feature gates as `--feature-gates` takes them (sorted: a stable command line); none: no flag. */
export function featureGatesFlag(gates: Record<string, boolean> | undefined): string[] {
  const entries = Object.entries(gates ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? [] : [`--feature-gates=${entries.map(([k, v]) => `${k}=${v}`).join(",")}`];
}

/** Per-component extra flags and the feature gates every Kubernetes component gets. */
export interface ComponentFlags {
  featureGates?: Record<string, boolean>;
  etcd?: string[];
  apiServer?: string[];
  controllerManager?: string[];
  scheduler?: string[];
}

// ---- etcd ----------------------------------------------------------------------------------------

export interface EtcdConfig {
  dataDir: string;
  clientPort: number;
  peerPort: number;
  extraArgs?: string[];
}

export function etcdArgs(c: EtcdConfig): string[] {
  return [
    "--name=default",
    `--data-dir=${c.dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${c.clientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${c.clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${c.peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${c.peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${c.peerPort}`,
    // A throwaway single-member cluster: durability is not worth the fsync latency.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
    ...(c.extraArgs ?? []),
  ];
}

export async function startEtcd(
  group: ProcessGroup,
  binary: string,
  c: EtcdConfig,
  timeoutMs: number,
): Promise<Component> {
  const etcd = group.start("etcd", binary, etcdArgs(c), c.clientPort);
  await waitHealthy(etcd, `http://127.0.0.1:${c.clientPort}/health`, {}, timeoutMs);
  return etcd;
}

// ---- kube-apiserver ------------------------------------------------------------------------------

export interface ApiServerConfig {
  etcdPort: number;
  port: number;
  /** Where kube-apiserver may write generated files (unused with our certificates, but required). */
  certDir: string;
  pki: PkiFiles;
  featureGates?: Record<string, boolean>;
  extraArgs?: string[];
}

export const apiServerUrl = (port: number): string => `https://127.0.0.1:${port}`;

export function apiServerArgs(c: ApiServerConfig): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${c.etcdPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${c.port}`,
    `--cert-dir=${c.certDir}`,
    `--tls-cert-file=${c.pki.apiserverCert}`,
    `--tls-private-key-file=${c.pki.apiserverKey}`,
    `--client-ca-file=${c.pki.caCert}`,
    "--authorization-mode=RBAC",
    `--service-account-issuer=${apiServerUrl(c.port)}`,
    `--service-account-key-file=${c.pki.saPub}`,
    `--service-account-signing-key-file=${c.pki.saKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
    "--endpoint-reconciler-type=none",
    // pods/log (and exec/attach) dial the node's InternalIP, which every fake node sets to 127.0.0.1
    // (the fake kubelet's API, src/local/kubelet-server.ts); never a hostname or another address.
    "--kubelet-preferred-address-types=InternalIP",
    "--max-requests-inflight=0",
    "--max-mutating-requests-inflight=0",
    "--enable-priority-and-fairness=false",
    "--profiling=false",
    "--v=1",
    ...featureGatesFlag(c.featureGates),
    ...(c.extraArgs ?? []),
  ];
}

/** Starts kube-apiserver and waits until it is ready and serves the default namespace. */
export async function startApiServer(
  group: ProcessGroup,
  binary: string,
  c: ApiServerConfig,
  adminTls: TlsMaterial,
  timeoutMs: number,
): Promise<Component> {
  const api = group.start("kube-apiserver", binary, apiServerArgs(c), c.port);
  const server = apiServerUrl(c.port);
  await waitHealthy(api, `${server}/readyz`, adminTls, timeoutMs);
  await waitHealthy(api, `${server}${resourcePath({ ...Resources.namespaces, name: "default" })}`, adminTls, timeoutMs);
  return api;
}

// ---- kube-controller-manager ---------------------------------------------------------------------

/** The controllers a JobSet needs: Jobs, garbage collection, namespaces, pod GC, Job TTL. */
export const Controllers = [
  "job-controller",
  "garbage-collector-controller",
  "namespace-controller",
  "pod-garbage-collector-controller",
  "ttl-after-finished-controller",
];

export interface ControllerManagerConfig {
  kubeconfigPath: string;
  port: number;
  certDir: string;
  controllers?: string[];
  featureGates?: Record<string, boolean>;
  extraArgs?: string[];
}

export function controllerManagerArgs(c: ControllerManagerConfig): string[] {
  return [
    `--kubeconfig=${c.kubeconfigPath}`,
    "--leader-elect=false",
    `--controllers=${(c.controllers ?? Controllers).join(",")}`,
    `--secure-port=${c.port}`,
    "--bind-address=127.0.0.1",
    `--cert-dir=${c.certDir}`,
    "--kube-api-qps=200",
    "--kube-api-burst=400",
    "--concurrent-job-syncs=5",
    "--concurrent-gc-syncs=20",
    "--v=1",
    ...featureGatesFlag(c.featureGates),
    ...(c.extraArgs ?? []),
  ];
}

/** Starts kube-controller-manager and waits for its /healthz (self-signed serving certificate). */
export async function startControllerManager(
  group: ProcessGroup,
  binary: string,
  c: ControllerManagerConfig,
  timeoutMs: number,
): Promise<Component> {
  const kcm = group.start("kube-controller-manager", binary, controllerManagerArgs(c), c.port);
  await waitHealthy(kcm, `https://127.0.0.1:${c.port}/healthz`, { insecure: true }, timeoutMs);
  return kcm;
}

// ---- kube-scheduler ------------------------------------------------------------------------------

export interface SchedulerConfig {
  kubeconfigPath: string;
  port: number;
  certDir: string;
  featureGates?: Record<string, boolean>;
  extraArgs?: string[];
}

export function schedulerArgs(c: SchedulerConfig): string[] {
  return [
    `--kubeconfig=${c.kubeconfigPath}`,
    "--leader-elect=false",
    `--secure-port=${c.port}`,
    "--bind-address=127.0.0.1",
    `--cert-dir=${c.certDir}`,
    "--v=1",
    ...featureGatesFlag(c.featureGates),
    ...(c.extraArgs ?? []),
  ];
}

/** Starts kube-scheduler and waits for its /healthz (self-signed serving certificate). */
export async function startScheduler(
  group: ProcessGroup,
  binary: string,
  c: SchedulerConfig,
  timeoutMs: number,
): Promise<Component> {
  const sched = group.start("kube-scheduler", binary, schedulerArgs(c), c.port);
  await waitHealthy(sched, `https://127.0.0.1:${c.port}/healthz`, { insecure: true }, timeoutMs);
  return sched;
}
