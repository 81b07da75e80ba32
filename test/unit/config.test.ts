import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ConfigError,
  decodeConfiguration,
  defaultConfiguration,
  loadConfiguration,
  parseDuration,
} from "../../src/api/config.ts";

const header = "apiVersion: config.jobset.x-k8s.io/v1alpha1\nkind: Configuration\n";

describe("Configuration (spec §9.3)", () => {
  test("no file: every default of §9.3", () => {
    assert.deepEqual(loadConfiguration(undefined), {
      apiVersion: "config.jobset.x-k8s.io/v1alpha1",
      kind: "Configuration",
      webhook: { port: 9443, host: "", certDir: "" },
      leaderElection: {
        leaderElect: true,
        leaseDuration: "15s",
        renewDeadline: "10s",
        retryPeriod: "2s",
        resourceLock: "leases",
        resourceName: "6d4f6a47.jobset.x-k8s.io",
        resourceNamespace: "",
      },
      metrics: { bindAddress: ":8443", certDir: "" },
      health: { healthProbeBindAddress: ":8081", readinessEndpointName: "", livenessEndpointName: "" },
      internalCertManagement: {
        enable: true,
        webhookServiceName: "jobset-webhook-service",
        webhookSecretName: "jobset-webhook-server-cert",
      },
      clientConnection: { qps: 500, burst: 500 },
      featureGates: {},
    });
  });

  test("the shipped config decodes; set fields win over defaults", () => {
    const c = loadConfiguration(
      `${header}health:\n  healthProbeBindAddress: :8081\nmetrics:\n  bindAddress: :8443\nwebhook:\n  port: 9443\n` +
        "leaderElection:\n  leaderElect: true\n  resourceName: 6d4f6a47.jobset.x-k8s.io\n" +
        "internalCertManagement:\n  enable: true\nclientConnection:\n  qps: 50\n  burst: 100\n" +
        "featureGates:\n  RestartJob: true\n",
    );
    assert.equal(c.clientConnection.qps, 50);
    assert.equal(c.clientConnection.burst, 100);
    assert.deepEqual(c.featureGates, { RestartJob: true });
    assert.equal(c.leaderElection.leaseDuration, "15s");
  });

  test("internal cert management disabled: names are not defaulted and not validated", () => {
    const c = loadConfiguration(`${header}internalCertManagement:\n  enable: false\n  webhookServiceName: Bad_Name\n`);
    assert.deepEqual(c.internalCertManagement, { enable: false, webhookServiceName: "Bad_Name" });
  });

  const errors: { name: string; text: string; want: string | RegExp }[] = [
    {
      name: "unknown fields (all of them, with paths)",
      text: `${header}foo: 1\nwebhook:\n  bar: x\n`,
      want: 'strict decoding error: unknown field "foo", unknown field "webhook.bar"',
    },
    {
      name: "type error",
      text: `${header}webhook:\n  port: "9443"\n`,
      want: "json: cannot unmarshal string into Go struct field Configuration.webhook.port of type int",
    },
    {
      name: "bad duration",
      text: `${header}leaderElection:\n  leaseDuration: 15\n`,
      want: "json: cannot unmarshal number 15 into Go struct field Configuration.leaderElection.leaseDuration of type v1.Duration",
    },
    {
      name: "bad duration string",
      text: `${header}leaderElection:\n  leaseDuration: soon\n`,
      want: 'time: invalid duration "soon"',
    },
    {
      name: "wrong kind",
      text: "apiVersion: config.jobset.x-k8s.io/v1alpha1\nkind: Other\n",
      want: 'no kind "Other" is registered for version "config.jobset.x-k8s.io/v1alpha1"',
    },
    { name: "duplicate key", text: `${header}webhook: {}\nwebhook: {}\n`, want: /^strict decoding error: / },
    {
      name: "service name must be a DNS-1035 label",
      text: `${header}internalCertManagement:\n  webhookServiceName: 1svc\n`,
      want: /^internalCertManagement\.webhookServiceName: Invalid value: "1svc": a DNS-1035 label must consist of/,
    },
    {
      name: "secret name must be a DNS-1123 subdomain",
      text: `${header}internalCertManagement:\n  webhookSecretName: Bad_Secret\n`,
      want: /^internalCertManagement\.webhookSecretName: Invalid value: "Bad_Secret": a lowercase RFC 1123 subdomain/,
    },
    {
      name: "TLS 1.1",
      text: `${header}tls:\n  minVersion: VersionTLS11\n`,
      want: "invalid minVersion: VersionTLS11 is not supported. Please use VersionTLS12 or VersionTLS13",
    },
    {
      name: "unknown TLS version",
      text: `${header}tls:\n  minVersion: TLS9\n`,
      want: 'invalid minVersion: unknown tls version "TLS9". Please use VersionTLS12 or VersionTLS13',
    },
    {
      name: "unknown cipher",
      text: `${header}tls:\n  cipherSuites: [NOPE]\n`,
      want: /^invalid cipher suites: Cipher suite NOPE not supported or doesn't exist\. Please use the secure cipher names: \[TLS_AES_128_GCM_SHA256 /,
    },
    {
      name: "cipher suites with TLS 1.3",
      text: `${header}tls:\n  minVersion: VersionTLS13\n  cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n`,
      want: "tls.cipherSuites: Invalid value: [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"]: may not be specified when `minVersion` is 'VersionTLS13'",
    },
  ];
  for (const tc of errors) {
    test(`error: ${tc.name}`, () => {
      assert.throws(
        () => loadConfiguration(tc.text),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          if (typeof tc.want === "string") assert.equal(e.message, tc.want);
          else assert.match(e.message, tc.want);
          return true;
        },
      );
    });
  }

  test("null values leave fields unset; an empty file is all defaults; apiVersion/kind may be omitted", () => {
    assert.deepEqual(decodeConfiguration("webhook: null\n"), {});
    assert.deepEqual(defaultConfiguration(decodeConfiguration("")), loadConfiguration(undefined));
  });

  test("Go durations", () => {
    for (const [s, ms] of [
      ["15s", 15_000],
      ["1m30s", 90_000],
      ["1.5h", 5_400_000],
      ["300ms", 300],
      ["0", 0],
      ["-2s", -2000],
    ] as const) {
      assert.equal(parseDuration(s), ms, s);
    }
    for (const bad of ["", "15", "s", "1x"]) assert.throws(() => parseDuration(bad), ConfigError);
  });
});
