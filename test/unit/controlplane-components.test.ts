import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  apiServerArgs,
  Controllers,
  controllerManagerArgs,
  etcdArgs,
  featureGatesFlag,
  schedulerArgs,
} from "../../src/local/components.ts";
import type { PkiFiles } from "../../src/local/pki.ts";

const pki: PkiFiles = {
  dir: "/p",
  caCert: "/p/ca.crt",
  caKey: "/p/ca.key",
  apiserverCert: "/p/apiserver.crt",
  apiserverKey: "/p/apiserver.key",
  adminCert: "/p/admin.crt",
  adminKey: "/p/admin.key",
  saKey: "/p/sa.key",
  saPub: "/p/sa.pub",
};

/** The value of `--name=value` flags; the last one when repeated (as the components read them). */
const flag = (args: string[], name: string) =>
  args
    .filter((a) => a.startsWith(`--${name}=`))
    .map((a) => a.slice(name.length + 3))
    .at(-1);

describe("control plane component flags", () => {
  test("feature gates: one flag, sorted; none when empty or absent", () => {
    assert.deepEqual(featureGatesFlag({ Zeta: false, Alpha: true }), ["--feature-gates=Alpha=true,Zeta=false"]);
    assert.deepEqual(featureGatesFlag({}), []);
    assert.deepEqual(featureGatesFlag(undefined), []);
  });

  test("etcd listens on loopback on its two ports and puts extra flags last", () => {
    const a = etcdArgs({ dataDir: "/d/etcd", clientPort: 2379, peerPort: 2380, extraArgs: ["--log-level=debug"] });
    assert.equal(flag(a, "listen-client-urls"), "http://127.0.0.1:2379");
    assert.equal(flag(a, "initial-cluster"), "default=http://127.0.0.1:2380");
    assert.equal(flag(a, "data-dir"), "/d/etcd");
    assert.equal(flag(a, "log-level"), "debug");
    assert.equal(a.at(-1), "--log-level=debug");
  });

  test("kube-apiserver: our PKI, RBAC, its own URL as service-account issuer; gates then extras", () => {
    const a = apiServerArgs({
      etcdPort: 2379,
      port: 6443,
      certDir: "/d/apiserver",
      pki,
      featureGates: { GenericWorkload: true },
      extraArgs: ["--runtime-config=scheduling.k8s.io/v1alpha1=true", "--v=4"],
    });
    assert.equal(flag(a, "etcd-servers"), "http://127.0.0.1:2379");
    assert.equal(flag(a, "secure-port"), "6443");
    assert.equal(flag(a, "tls-cert-file"), pki.apiserverCert);
    assert.equal(flag(a, "client-ca-file"), pki.caCert);
    assert.equal(flag(a, "service-account-key-file"), pki.saPub);
    assert.equal(flag(a, "service-account-signing-key-file"), pki.saKey);
    assert.equal(flag(a, "service-account-issuer"), "https://127.0.0.1:6443");
    assert.equal(flag(a, "authorization-mode"), "RBAC");
    assert.equal(flag(a, "kubelet-preferred-address-types"), "InternalIP");
    assert.equal(flag(a, "feature-gates"), "GenericWorkload=true");
    assert.equal(flag(a, "v"), "4", "an extra flag comes after ours, so it wins");
    assert.deepEqual(a.slice(-2), ["--runtime-config=scheduling.k8s.io/v1alpha1=true", "--v=4"]);
  });

  test("kube-controller-manager runs the controllers a JobSet needs, or the ones given", () => {
    const base = { kubeconfigPath: "/d/admin.kubeconfig", port: 10257, certDir: "/d/kcm" };
    const a = controllerManagerArgs(base);
    assert.equal(flag(a, "controllers"), Controllers.join(","));
    assert.ok(Controllers.includes("job-controller") && Controllers.includes("garbage-collector-controller"));
    assert.equal(flag(a, "kubeconfig"), "/d/admin.kubeconfig");
    assert.equal(flag(a, "leader-elect"), "false");
    assert.equal(flag(a, "feature-gates"), undefined);
    const b = controllerManagerArgs({ ...base, controllers: ["job-controller"], featureGates: { X: true } });
    assert.equal(flag(b, "controllers"), "job-controller");
    assert.equal(flag(b, "feature-gates"), "X=true");
  });

  test("kube-scheduler: kubeconfig, loopback, no leader election; gates then extras", () => {
    const a = schedulerArgs({
      kubeconfigPath: "/d/admin.kubeconfig",
      port: 10259,
      certDir: "/d/scheduler",
      featureGates: { GangScheduling: true },
      extraArgs: ["--config=/d/scheduler.yaml"],
    });
    assert.equal(flag(a, "bind-address"), "127.0.0.1");
    assert.equal(flag(a, "secure-port"), "10259");
    assert.equal(flag(a, "feature-gates"), "GangScheduling=true");
    assert.equal(a.at(-1), "--config=/d/scheduler.yaml");
  });
});
