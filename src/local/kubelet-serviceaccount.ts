// The service-account mount of the exec runtime. A kubelet projects a token of the pod's ServiceAccount
// (bound to the pod), the cluster CA and the namespace into /var/run/secrets/kubernetes.io/serviceaccount
// and sets KUBERNETES_SERVICE_HOST/PORT. Local processes cannot see a per-pod /var/run, so the files go
// under the pod's work directory and JOBSET_LOCAL_SERVICE_ACCOUNT_DIR names it (`jobset agent` and the
// in-cluster configuration of src/runtime/kubeconfig.ts read it). Nothing is mounted when the pod opts
// out (automountServiceAccountToken: false) or its ServiceAccount does not exist (the local cluster runs
// no ServiceAccount controller and no ServiceAccount admission, so only ServiceAccounts created on
// purpose exist).
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Pod } from "../api/k8s.ts";
import { isNotFound, type KubeClient } from "../runtime/client.ts";

/** Where the files go, under the pod's work directory (the path they have in a real container). */
export const ServiceAccountSubdir = "var/run/secrets/kubernetes.io/serviceaccount";
/** The variable that names the directory for local processes. */
export const LocalServiceAccountDirEnv = "JOBSET_LOCAL_SERVICE_ACCOUNT_DIR";
/** Token lifetime: a local pod lives for one session; the kubelet does not refresh it. */
export const TokenSeconds = 24 * 3600;

/**
 * Mounts the pod's service account; returns the variables the containers get (undefined when nothing
 * was mounted).
 */
export async function mountServiceAccount(
  client: KubeClient,
  pod: Pod,
  workDir: string,
): Promise<Record<string, string> | undefined> {
  const spec = pod.spec;
  if (spec?.automountServiceAccountToken === false) return undefined;
  const ns = pod.metadata?.namespace ?? "default";
  const sa = spec?.serviceAccountName || "default";
  let token: string;
  try {
    const tr = await client.create<{ status: { token: string } }>(
      `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          expirationSeconds: TokenSeconds,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata?.name, uid: pod.metadata?.uid },
        },
      },
    );
    token = tr.status.token;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
  const dir = join(workDir, ServiceAccountSubdir);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "token"), token, { mode: 0o600 });
  await chmod(join(dir, "token"), 0o600);
  await writeFile(join(dir, "namespace"), ns);
  if (client.config.tls.ca) await writeFile(join(dir, "ca.crt"), client.config.tls.ca);
  const url = new URL(client.server);
  return {
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port || "443",
    [LocalServiceAccountDirEnv]: dir,
  };
}
