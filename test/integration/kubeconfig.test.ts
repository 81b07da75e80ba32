// The kubeconfig loader (src/runtime/kubeconfig.ts) against the real kube-apiserver: each way of
// authenticating is proven by asking the server who we are (SelfSubjectReview), through KubeClient
// exactly as the controller and the CLI use it.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { issueClientCert, loadCa } from "../../src/pki/x509.ts";
import { ApiError, KubeClient } from "../../src/runtime/client.ts";
import { loadKubeConfig, TokenFileRefreshMs } from "../../src/runtime/kubeconfig.ts";
import { type TestCluster, testNamespace, useCluster } from "../support/cluster.ts";
import { serviceAccountToken } from "../support/controller-process.ts";

let cluster: TestCluster;
const dir = mkdtempSync(join(tmpdir(), "kubeconfig-it-"));
before(async () => {
  cluster = await useCluster("apiserver");
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const write = (name: string, text: string): string => {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
};

/** A kubeconfig for the test cluster (CA from its file) with `user` as the user's YAML body. */
function kubeconfig(user: string): string {
  return write(
    "config",
    `apiVersion: v1
kind: Config
current-context: it
clusters:
- name: it
  cluster:
    server: ${cluster.server}
    certificate-authority: ${cluster.caCert}
contexts:
- name: it
  context: {cluster: it, user: it-user}
users:
- name: it-user
  user:
${user}
`,
  );
}

/** The user name the API server authenticated. */
async function whoami(client: KubeClient): Promise<string> {
  const r = await client.create<{ status?: { userInfo?: { username?: string } } }>(
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  );
  return r.status?.userInfo?.username ?? "";
}

/** A node script printing an ExecCredential whose status it reads from `statusFile` (each run appends to `runsFile`). */
function execPlugin(apiVersion: string, statusFile: string, runsFile: string): string {
  const p = write(
    "plugin.cjs",
    `#!${process.execPath}
const fs = require("node:fs");
fs.appendFileSync(${JSON.stringify(runsFile)}, "x");
const status = JSON.parse(fs.readFileSync(${JSON.stringify(statusFile)}, "utf8"));
process.stdout.write(JSON.stringify({ apiVersion: ${JSON.stringify(apiVersion)}, kind: "ExecCredential", status }));
`,
  );
  chmodSync(p, 0o755);
  return p;
}
const runsOf = (f: string) => {
  try {
    return readFileSync(f, "utf8").length;
  } catch {
    return 0;
  }
};

describe("kubeconfig against the real API server", () => {
  test("client certificate (data) and client certificate (files)", async () => {
    const ca = loadCa(cluster.caCert, cluster.caKey);
    const cert = issueClientCert(ca, "kubeconfig-cert-user", ["system:authenticated"]);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const viaData = await KubeClient.create({
      kubeconfig: kubeconfig(
        `    client-certificate-data: ${b64(cert.certPem)}\n    client-key-data: ${b64(cert.keyPem)}`,
      ),
    });
    const certFile = write("me.crt", cert.certPem);
    const keyFile = write("me.key", cert.keyPem);
    const viaFiles = await KubeClient.create({
      kubeconfig: kubeconfig(`    client-certificate: ${certFile}\n    client-key: ${keyFile}`),
    });
    try {
      assert.equal(await whoami(viaData), "kubeconfig-cert-user");
      assert.equal(await whoami(viaFiles), "kubeconfig-cert-user");
    } finally {
      await viaData.close();
      await viaFiles.close();
    }
  });

  test("bearer token, and a token file re-read after a minute", async (t) => {
    const ns = await testNamespace(t, cluster);
    const one = await serviceAccountToken(t, cluster.client, ns, "one", false);
    const two = await serviceAccountToken(t, cluster.client, ns, "two", false);
    const viaToken = await KubeClient.create({ kubeconfig: kubeconfig(`    token: ${one}`) });
    const tokenFile = write("token", one);
    let now = Date.now();
    const viaFile = new KubeClient(
      loadKubeConfig({ kubeconfig: kubeconfig(`    tokenFile: ${tokenFile}`), now: () => now }),
    );
    try {
      assert.equal(await whoami(viaToken), `system:serviceaccount:${ns}:one`);
      assert.equal(await whoami(viaFile), `system:serviceaccount:${ns}:one`);
      writeFileSync(tokenFile, two); // rotated
      assert.equal(await whoami(viaFile), `system:serviceaccount:${ns}:one`, "cached for a minute");
      now += TokenFileRefreshMs;
      assert.equal(await whoami(viaFile), `system:serviceaccount:${ns}:two`);
    } finally {
      await viaToken.close();
      await viaFile.close();
    }
  });

  for (const apiVersion of ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]) {
    test(`exec plugin (${apiVersion}): token cached until expiry, run again after a 401`, async (t) => {
      const ns = await testNamespace(t, cluster);
      const token = await serviceAccountToken(t, cluster.client, ns, "exec", false);
      const statusFile = write("status.json", JSON.stringify({ token: "not-a-valid-token" }));
      const runsFile = join(dir, `${n++}-runs`);
      const plugin = execPlugin(apiVersion, statusFile, runsFile);
      const mode = apiVersion.endsWith("/v1") ? "\n      interactiveMode: Never" : "";
      const path = kubeconfig(`    exec:\n      apiVersion: ${apiVersion}\n      command: ${plugin}${mode}`);
      const client = await KubeClient.create({ kubeconfig: path });
      try {
        // the first credentials are refused: 401, and the next request runs the plugin again
        await assert.rejects(whoami(client), (e: unknown) => e instanceof ApiError && e.code === 401);
        writeFileSync(statusFile, JSON.stringify({ token, expirationTimestamp: "2999-01-01T00:00:00Z" }));
        assert.equal(await whoami(client), `system:serviceaccount:${ns}:exec`);
        const runs = runsOf(runsFile);
        await whoami(client);
        await whoami(client);
        assert.equal(runsOf(runsFile), runs, "credentials cached until their expiry");
      } finally {
        await client.close();
      }
    });
  }

  test("exec plugin issuing a client certificate", async () => {
    const ca = loadCa(cluster.caCert, cluster.caKey);
    const cert = issueClientCert(ca, "kubeconfig-exec-cert-user", ["system:authenticated"]);
    const statusFile = write(
      "status.json",
      JSON.stringify({ clientCertificateData: cert.certPem, clientKeyData: cert.keyPem }),
    );
    const plugin = execPlugin("client.authentication.k8s.io/v1", statusFile, join(dir, `${n++}-runs`));
    const client = await KubeClient.create({
      kubeconfig: kubeconfig(
        `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: IfAvailable`,
      ),
    });
    try {
      assert.equal(await whoami(client), "kubeconfig-exec-cert-user");
    } finally {
      await client.close();
    }
  });

  test("in-cluster configuration: service-account token file and CA", async (t) => {
    const ns = await testNamespace(t, cluster);
    const token = await serviceAccountToken(t, cluster.client, ns, "incluster", false);
    const sa = join(dir, `${n++}-sa`);
    mkdirSync(sa);
    writeFileSync(join(sa, "token"), token);
    writeFileSync(join(sa, "ca.crt"), readFileSync(cluster.caCert));
    writeFileSync(join(sa, "namespace"), ns);
    const url = new URL(cluster.server);
    const cfg = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
      home: join(dir, "no-home"),
      serviceAccountDir: sa,
    });
    assert.equal(cfg.namespace, ns);
    const client = new KubeClient(cfg);
    try {
      assert.equal(await whoami(client), `system:serviceaccount:${ns}:incluster`);
    } finally {
      await client.close();
    }
  });
});
