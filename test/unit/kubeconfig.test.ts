import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, describe, test } from "node:test";
import {
  type ExecCredentialSource,
  inClusterConfig,
  KubeConfigError,
  loadKubeConfig,
  parseKubeConfig,
  TokenFileRefreshMs,
} from "../../src/runtime/kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** Writes `text` to a fresh file (in a fresh subdirectory) and returns its path. */
function file(text: string, name = "config"): string {
  const d = join(dir, String(n++));
  mkdirSync(d, { recursive: true });
  const p = join(d, name);
  writeFileSync(p, text);
  return p;
}
const b64 = (s: string) => Buffer.from(s).toString("base64");
const noEnv = { env: {}, home: join(dir, "no-home") };

/** A node script printing an ExecCredential (and recording its KUBERNETES_EXEC_INFO to `infoFile`). */
function plugin(status: object, apiVersion = "client.authentication.k8s.io/v1", infoFile?: string): string {
  const p = file(
    `#!${process.execPath}\n` +
      (infoFile
        ? `require("node:fs").writeFileSync(${JSON.stringify(infoFile)}, process.env.KUBERNETES_EXEC_INFO);\n`
        : "") +
      `process.stdout.write(JSON.stringify({ apiVersion: ${JSON.stringify(apiVersion)}, kind: "ExecCredential", status: ${JSON.stringify(status)} }));\n`,
    "plugin.cjs",
  );
  chmodSync(p, 0o755);
  return p;
}

const basic = (user: string, extra = "") => `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: ${b64("CA-ONE")}
- name: c2
  cluster:
    server: https://10.0.0.2:6443
    insecure-skip-tls-verify: true
    tls-server-name: api.internal
contexts:
- name: main
  context: {cluster: c1, user: u1, namespace: team-a}
- name: other
  context: {cluster: c2, user: u1}
users:
- name: u1
  user:
${user}
${extra}`;

describe("kubeconfig: files and contexts", () => {
  test("current-context: server, namespace, CA data, static token", async () => {
    const cfg = loadKubeConfig({ ...noEnv, kubeconfig: file(basic("    token: abc")) });
    assert.equal(cfg.context, "main");
    assert.equal(cfg.server, "https://10.0.0.1:6443");
    assert.equal(cfg.namespace, "team-a");
    assert.equal(cfg.tls.ca, "CA-ONE");
    assert.equal(cfg.tls.rejectUnauthorized, true);
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer abc" });
  });

  test("an explicit context: insecure-skip-tls-verify, tls-server-name, default namespace", () => {
    const cfg = loadKubeConfig({ ...noEnv, kubeconfig: file(basic("    token: abc")), context: "other" });
    assert.equal(cfg.server, "https://10.0.0.2:6443");
    assert.equal(cfg.namespace, "default");
    assert.equal(cfg.tls.rejectUnauthorized, false);
    assert.equal(cfg.tls.servername, "api.internal");
    assert.equal(cfg.tls.ca, undefined);
  });

  test("unknown context and missing current-context name the way out", () => {
    const f = file(basic("    token: abc"));
    assert.throws(() => loadKubeConfig({ ...noEnv, kubeconfig: f, context: "nope" }), {
      message: /context "nope" not found \(contexts: main, other\)/,
    });
    const g = file("clusters: []\ncontexts: []\n");
    assert.throws(() => loadKubeConfig({ ...noEnv, kubeconfig: g }), {
      message: /has no current-context: pass --context/,
    });
    assert.throws(() => loadKubeConfig({ ...noEnv, kubeconfig: join(dir, "absent") }), {
      message: /cannot read kubeconfig .*absent: no such file/,
    });
  });

  test("bad fields are named by their path", () => {
    assert.throws(() => parseKubeConfig("clusters:\n- name: a\n  cluster: {server: 3}\n", "/x"), {
      message: "kubeconfig /x: clusters[0].cluster.server: must be a string, not 3",
    });
    assert.throws(
      () =>
        parseKubeConfig(
          "users:\n- name: a\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}\n",
          "/x",
        ),
      { message: /users\[0\]\.user\.exec\.interactiveMode: required for client\.authentication\.k8s\.io\/v1/ },
    );
    assert.throws(() => parseKubeConfig("users:\n- name: a\n  user:\n    exec: {apiVersion: v9, command: x}\n", "/x"), {
      message: /users\[0\]\.user\.exec\.apiVersion: "v9" is not supported/,
    });
  });

  test("client certificate and key from files, relative to the kubeconfig's directory", () => {
    const f = file(basic("    client-certificate: certs/me.crt\n    client-key: certs/me.key"));
    mkdirSync(join(f, "..", "certs"));
    writeFileSync(join(f, "..", "certs", "me.crt"), "CERT");
    writeFileSync(join(f, "..", "certs", "me.key"), "KEY");
    const cfg = loadKubeConfig({ ...noEnv, kubeconfig: f });
    assert.equal(cfg.tls.cert, "CERT");
    assert.equal(cfg.tls.key, "KEY");
  });

  test("client certificate and key data; a certificate without key is refused", () => {
    const cfg = loadKubeConfig({
      ...noEnv,
      kubeconfig: file(basic(`    client-certificate-data: ${b64("C")}\n    client-key-data: ${b64("K")}`)),
    });
    assert.equal(cfg.tls.cert, "C");
    assert.equal(cfg.tls.key, "K");
    assert.throws(
      () => loadKubeConfig({ ...noEnv, kubeconfig: file(basic(`    client-certificate-data: ${b64("C")}`)) }),
      {
        message: /needs both a certificate and a key/,
      },
    );
  });

  test("CA file; CA together with insecure-skip-tls-verify is refused", () => {
    const text = `current-context: x
clusters: [{name: c, cluster: {server: "https://h", certificate-authority: ca.pem}}]
contexts: [{name: x, context: {cluster: c, user: ""}}]
`;
    const f = file(text);
    writeFileSync(join(f, "..", "ca.pem"), "CA-FILE");
    assert.equal(loadKubeConfig({ ...noEnv, kubeconfig: f }).tls.ca, "CA-FILE");
    const g = file(
      text.replace("certificate-authority: ca.pem", "certificate-authority-data: Q0E=, insecure-skip-tls-verify: true"),
    );
    assert.throws(() => loadKubeConfig({ ...noEnv, kubeconfig: g }), { message: /exclude each other/ });
  });

  test("basic auth, impersonation, proxy-url; socks proxies and auth-provider are refused", async () => {
    const cfg = loadKubeConfig({
      ...noEnv,
      kubeconfig: file(
        basic("    username: ann\n    password: pw\n    as: bob\n    as-groups: [g1, g2]").replace(
          "server: https://10.0.0.1:6443/",
          "server: https://10.0.0.1:6443/\n    proxy-url: http://proxy:3128",
        ),
      ),
    });
    assert.equal(cfg.proxyUrl, "http://proxy:3128");
    assert.deepEqual((await cfg.credentials.get()).headers, {
      authorization: `Basic ${b64("ann:pw")}`,
      "impersonate-user": "bob",
      "impersonate-group": "g1, g2",
    });
    const socks = basic("    token: t").replace(
      "server: https://10.0.0.1:6443/",
      "server: https://10.0.0.1:6443/\n    proxy-url: socks5://p:1080",
    );
    assert.throws(() => loadKubeConfig({ ...noEnv, kubeconfig: file(socks) }), {
      message: /only http and https proxies/,
    });
    assert.throws(() => loadKubeConfig({ ...noEnv, kubeconfig: file(basic("    auth-provider: {name: gcp}")) }), {
      message: /auth-provider "gcp" is not supported .*exec credential plugin/,
    });
  });
});

describe("kubeconfig: where it is found", () => {
  test("KUBECONFIG with several files: the first to define a name, and the first current-context, win", () => {
    const one = file(`clusters: [{name: shared, cluster: {server: "https://first"}}]
users: [{name: me, user: {token: from-first}}]
`);
    const two = file(`current-context: ctx
clusters: [{name: shared, cluster: {server: "https://second"}}]
users: [{name: me, user: {token: from-second}}]
contexts: [{name: ctx, context: {cluster: shared, user: me, namespace: two}}]
`);
    const three = file(`current-context: later
contexts: [{name: ctx, context: {cluster: shared, user: me, namespace: three}}]
`);
    const missing = join(dir, "missing-config");
    const cfg = loadKubeConfig({ env: { KUBECONFIG: [missing, one, two, three].join(delimiter) }, home: dir });
    assert.equal(cfg.context, "ctx");
    assert.equal(cfg.server, "https://first");
    assert.equal(cfg.namespace, "two");
    return cfg.credentials.get().then((c) => assert.deepEqual(c.headers, { authorization: "Bearer from-first" }));
  });

  test("KUBECONFIG naming only missing files is an error; ~/.kube/config is the fallback", () => {
    assert.throws(() => loadKubeConfig({ env: { KUBECONFIG: join(dir, "nope") }, home: dir }), {
      message: /none of the files in KUBECONFIG exist/,
    });
    const home = join(dir, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(join(home, ".kube", "config"), basic("    token: home"));
    assert.equal(loadKubeConfig({ env: {}, home }).server, "https://10.0.0.1:6443");
    assert.throws(() => loadKubeConfig({ env: {}, home: join(dir, "empty-home") }), { message: /no kubeconfig found/ });
  });

  test("in-cluster: service account token (re-read every minute), CA, namespace", async () => {
    const sa = join(dir, "sa");
    mkdirSync(sa);
    writeFileSync(join(sa, "token"), "tok-1\n");
    writeFileSync(join(sa, "ca.crt"), "SA-CA");
    writeFileSync(join(sa, "namespace"), "jobset-system");
    let now = 1_000_000;
    const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" };
    const viaDefault = loadKubeConfig({ env, home: join(dir, "empty-home"), serviceAccountDir: sa });
    assert.equal(viaDefault.source, "in-cluster");
    const cfg = inClusterConfig({ env, serviceAccountDir: sa, now: () => now });
    assert.equal(cfg.server, "https://[fd00::1]:443");
    assert.equal(cfg.namespace, "jobset-system");
    assert.equal(cfg.tls.ca, "SA-CA");
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer tok-1" });
    writeFileSync(join(sa, "token"), "tok-2\n");
    now += TokenFileRefreshMs - 1;
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer tok-1" });
    now += 1;
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer tok-2" });
    // a token file that disappears keeps the last good token
    rmSync(join(sa, "token"));
    now += TokenFileRefreshMs;
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer tok-2" });
  });

  test("tokenFile wins over token and is re-read; token is the fallback while the file is unreadable", async () => {
    let now = 0;
    const f = file(basic("    token: static\n    tokenFile: tok"));
    const tokFile = join(f, "..", "tok");
    const cfg = loadKubeConfig({ ...noEnv, kubeconfig: f, now: () => now });
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer static" });
    writeFileSync(tokFile, "rotating-1");
    now += TokenFileRefreshMs;
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer rotating-1" });
    writeFileSync(tokFile, "rotating-2");
    cfg.credentials.invalidate(); // a 401 re-reads at once
    assert.deepEqual((await cfg.credentials.get()).headers, { authorization: "Bearer rotating-2" });
  });
});

describe("kubeconfig: exec credential plugins", () => {
  const execUser = (command: string, apiVersion: string, more = "") =>
    `    exec:\n      apiVersion: ${apiVersion}\n      command: ${command}\n${more}`;

  for (const apiVersion of ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]) {
    test(`${apiVersion}: token cached until its expirationTimestamp, env and cluster info passed`, async () => {
      let now = Date.parse("2030-01-01T00:00:00Z");
      const info = join(dir, `exec-info-${n++}.json`);
      const cmd = plugin({ token: "exec-tok", expirationTimestamp: "2030-01-01T00:10:00Z" }, apiVersion, info);
      const mode = apiVersion === "client.authentication.k8s.io/v1" ? "      interactiveMode: Never\n" : "";
      const f = file(
        basic(
          execUser(
            cmd,
            apiVersion,
            `${mode}      provideClusterInfo: true\n      env: [{name: FOO, value: bar}]\n      args: [--x]`,
          ),
        ),
      );
      const cfg = loadKubeConfig({ ...noEnv, kubeconfig: f, now: () => now, stdinIsTTY: false });
      const src = cfg.credentials as ExecCredentialSource;
      assert.deepEqual((await src.get()).headers, { authorization: "Bearer exec-tok" });
      const sent = JSON.parse((await import("node:fs")).readFileSync(info, "utf8")) as {
        apiVersion: string;
        spec: { interactive: boolean; cluster?: { server: string; "certificate-authority-data"?: string } };
      };
      assert.equal(sent.apiVersion, apiVersion);
      assert.equal(sent.spec.interactive, false);
      assert.equal(sent.spec.cluster?.server, "https://10.0.0.1:6443/");
      assert.equal(sent.spec.cluster?.["certificate-authority-data"], b64("CA-ONE"));
      await Promise.all([src.get(), src.get()]);
      assert.equal(src.runs, 1, "cached until expiry");
      now = Date.parse("2030-01-01T00:10:00Z");
      await src.get();
      assert.equal(src.runs, 2, "run again at expiry");
      src.invalidate();
      await src.get();
      assert.equal(src.runs, 3, "run again after a 401");
    });
  }

  test("client certificates from a plugin; a relative command path is relative to the kubeconfig", async () => {
    const cmd = plugin({ clientCertificateData: "PEM-CERT", clientKeyData: "PEM-KEY" });
    const f = join(cmd, "..", "config");
    writeFileSync(
      f,
      basic(execUser("./plugin.cjs", "client.authentication.k8s.io/v1", "      interactiveMode: IfAvailable")),
    );
    const creds = await loadKubeConfig({ ...noEnv, kubeconfig: f, stdinIsTTY: false }).credentials.get();
    assert.equal(creds.cert, "PEM-CERT");
    assert.equal(creds.key, "PEM-KEY");
    assert.deepEqual(creds.headers, {});
  });

  test("interactiveMode Always without a terminal, a missing command, a wrong apiVersion: clear errors", async () => {
    const always = loadKubeConfig({
      ...noEnv,
      kubeconfig: file(
        basic(execUser(plugin({ token: "t" }), "client.authentication.k8s.io/v1", "      interactiveMode: Always")),
      ),
      stdinIsTTY: false,
    });
    await assert.rejects(always.credentials.get(), { message: /needs an interactive terminal/ });
    const missing = loadKubeConfig({
      ...noEnv,
      kubeconfig: file(
        basic(
          execUser(
            "no-such-plugin-xyz",
            "client.authentication.k8s.io/v1beta1",
            "      installHint: install it with brew",
          ),
        ),
      ),
    });
    await assert.rejects(missing.credentials.get(), {
      message: /exec plugin no-such-plugin-xyz not found: install it .*\ninstall it with brew/,
    });
    const wrong = loadKubeConfig({
      ...noEnv,
      kubeconfig: file(
        basic(
          execUser(
            plugin({ token: "t" }, "client.authentication.k8s.io/v1beta1"),
            "client.authentication.k8s.io/v1",
            "      interactiveMode: Never",
          ),
        ),
      ),
    });
    await assert.rejects(wrong.credentials.get(), {
      message: /answered apiVersion .*v1beta1, but the kubeconfig asked for/,
    });
    const empty = loadKubeConfig({
      ...noEnv,
      kubeconfig: file(basic(execUser(plugin({}), "client.authentication.k8s.io/v1", "      interactiveMode: Never"))),
    });
    await assert.rejects(empty.credentials.get(), { message: /neither token nor clientCertificateData/ });
    assert.ok(KubeConfigError);
  });
});
