// The local cluster's admin kubeconfig: the API server's URL, the cluster CA and the admin
// (system:masters) client certificate, all as file paths into the control plane's PKI directory.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { PkiFiles } from "./pki.ts";
import type { TlsMaterial } from "./processes.ts";

export function kubeconfigYaml(server: string, pki: PkiFiles): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority: ${pki.caCert}
users:
- name: admin
  user:
    client-certificate: ${pki.adminCert}
    client-key: ${pki.adminKey}
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
`;
}

/** Writes the admin kubeconfig to `path` (mode 0600: it points at the admin key). */
export async function writeAdminKubeconfig(path: string, server: string, pki: PkiFiles): Promise<void> {
  await writeFile(path, kubeconfigYaml(server, pki), { mode: 0o600 });
}

/** The admin's TLS material, for probing kube-apiserver's health before any client exists. */
export function adminTls(pki: PkiFiles): TlsMaterial {
  return { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) };
}
