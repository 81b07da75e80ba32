// The package as users install it: `npm pack` (prepack builds dist/), the tarball installed with npm
// into an empty project outside the repository, then, from that project only:
//   (a)+(c) the SDK example of docs/sdk.md and the type-test fixture type-check against the installed
//           declarations; the installed `jobset controller` runs against a local control plane with a
//           fake kubelet (no other JobSet controller) and becomes ready; the example, run with Node,
//           builds a JobSet that this controller reconciles to Completed, and prints its pods' logs;
//   (b)     `npx jobset run` of a shipped example starts the ephemeral local cluster from the shipped
//           kube/ module, sharing the control-plane cache (no Kubernetes build).
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { get } from "node:http";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import pkg from "../../package.json" with { type: "json" };
import { KUBE_MODULE_DIR, keyInputs } from "../../src/local/binaries.ts";
import { type ControlPlane, freePort, startControlPlane } from "../../src/local/controlplane.ts";
import { type FakeKubelet, startFakeKubelet } from "../../src/local/kubelet.ts";
import { type RunResult, runCommand } from "../support/run.ts";

const ROOT = join(import.meta.dirname, "../..");
const TYPES_NODE = pkg.devDependencies["@types/node"];

type Result = RunResult;

/** A user's environment: our Node first on PATH, no cluster configured, the shared control-plane cache. */
function userEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env))
    if (k === "KUBECONFIG" || k.startsWith("JOBSET_") || k.startsWith("npm_")) delete env[k];
  env.PATH = [dirname(process.execPath), env.PATH ?? ""].join(delimiter);
  env.HOME = home;
  env.XDG_CACHE_HOME = process.env.XDG_CACHE_HOME || join(homedir(), ".cache"); // the built binaries
  env.npm_config_cache = join(homedir(), ".npm"); // npm's package cache, as the user's
  env.GOPATH = process.env.GOPATH || join(homedir(), "go");
  env.JOBSET_STATE_DIR = join(home, "state");
  env.NO_COLOR = "1";
  return { ...env, ...extra };
}

const exec = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Result> =>
  runCommand(cmd, args, { cwd, env });

const show = (r: Result) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

function readyz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: "/readyz", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
  });
}

describe("the npm package, installed into an empty project", () => {
  const work = realpathSync(mkdtempSync(join(tmpdir(), "jobset-package-")));
  const home = join(work, "home");
  const project = join(work, "project");
  const installed = join(project, "node_modules", "jobset-ts");
  let tarball = "";
  let files: string[] = [];

  before(async () => {
    mkdirSync(home);
    mkdirSync(project);
    const hadDist = existsSync(join(ROOT, "dist"));
    try {
      const packed = await exec("npm", ["pack", "--pack-destination", work], ROOT, userEnv(home));
      assert.equal(packed.code, 0, show(packed));
    } finally {
      // prepack built dist/ here: leave the checkout as it was (bin/jobset.js runs a dist/ no older than src/)
      if (!hadDist) rmSync(join(ROOT, "dist"), { recursive: true, force: true });
    }
    tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz")) ?? "none.tgz");
    files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" })
      .split("\n")
      .filter((f) => f !== "" && !f.endsWith("/"))
      .map((f) => f.replace(/^package\//, ""));
    writeFileSync(join(project, "package.json"), '{ "name": "consumer", "private": true, "type": "module" }\n');
    const install = await exec(
      "npm",
      ["install", "--no-audit", "--no-fund", tarball, `@types/node@${TYPES_NODE}`],
      project,
      userEnv(home),
    );
    assert.equal(install.code, 0, show(install));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test("the tarball holds what runs and nothing else: no sources, tests, benchmarks or source maps", () => {
    for (const f of [
      "package.json",
      "bin/jobset.js",
      "dist/bin/jobset.js",
      "dist/bundle/jobset.js",
      "dist/bundle/build-info.json",
      "dist/bundle/web/main.js",
      "dist/src/cli/main.js",
      "dist/src/sdk/index.js",
      "dist/src/sdk/index.d.ts",
      "dist/src/sdk/api.d.ts",
      "dist/kubernetes-types/index.d.ts",
      "config/crd/bases/jobset.x-k8s.io_jobsets.yaml",
      "examples/hello.yaml",
      "examples/sdk/pytorch.ts",
    ])
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    // the kube/ module: exactly the files that key the control-plane cache
    const kube = files.filter((f) => f.startsWith("kube/")).sort();
    assert.deepEqual(
      kube,
      keyInputs(KUBE_MODULE_DIR)
        .map((p) => p.slice(ROOT.length + 1))
        .sort(),
    );
    const unwanted = files.filter((f) => /^(src|test|bench|scripts|docs|charts)\//.test(f) || f.endsWith(".map"));
    assert.deepEqual(unwanted, []);
  });

  describe("(a) + (c): an SDK script, reconciled by the installed `jobset controller`", () => {
    let cp: ControlPlane;
    let kubelet: FakeKubelet;
    let controller: ChildProcess | undefined;
    let controllerLog = "";
    before(async () => {
      // the control plane with the CRD the package ships, and a fake kubelet running containers as processes
      cp = await startControlPlane({
        profile: "full",
        crdPaths: [join(installed, "config/crd/bases/jobset.x-k8s.io_jobsets.yaml")],
      });
      kubelet = await startFakeKubelet({ kubeconfigPath: cp.kubeconfigPath, nodes: 4, runtime: "exec", log: () => {} });
    });
    after(async () => {
      if (controller && controller.exitCode === null) controller.kill("SIGKILL");
      await kubelet?.stop();
      await cp?.stop();
    });

    test("the example and the type-test fixture type-check against the installed declarations", async () => {
      copyFileSync(join(installed, "examples/sdk/pytorch.ts"), join(project, "pytorch.ts"));
      copyFileSync(join(ROOT, "test/fixtures/sdk-types/wrong.ts"), join(project, "wrong.ts"));
      const tsconfig = {
        compilerOptions: {
          target: "es2023",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          types: ["node"],
        },
        files: ["pytorch.ts", "wrong.ts"],
      };
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      const r = await exec(process.execPath, [tsc, "-p", project], project, userEnv(home));
      assert.equal(r.code, 0, show(r));
    });

    test("`jobset controller` becomes ready, and the example's JobSet completes under it", async () => {
      const port = await freePort();
      controller = spawn(
        join(project, "node_modules/.bin/jobset"),
        [
          "controller",
          "--kubeconfig",
          cp.kubeconfigPath,
          "--webhooks=false",
          "--leader-elect=false",
          "--metrics-bind-address",
          "0",
          "--health-probe-bind-address",
          `127.0.0.1:${port}`,
        ],
        { cwd: project, env: userEnv(home), stdio: ["ignore", "pipe", "pipe"] },
      );
      controller.stdout?.on("data", (d) => {
        controllerLog += d;
      });
      controller.stderr?.on("data", (d) => {
        controllerLog += d;
      });
      const deadline = Date.now() + 60_000;
      while ((await readyz(port)) !== 200) {
        assert.equal(controller.exitCode, null, `jobset controller exited:\n${controllerLog}`);
        assert.ok(Date.now() < deadline, `jobset controller not ready within 60 s:\n${controllerLog}`);
        await new Promise((r) => setTimeout(r, 250));
      }

      const r = await exec(process.execPath, ["pytorch.ts"], project, userEnv(home, { KUBECONFIG: cp.kubeconfigPath }));
      assert.equal(r.code, 0, `${show(r)}\ncontroller:\n${controllerLog}`);
      assert.match(r.stdout, /^JobSet pytorch completed$/m);
      for (let rank = 0; rank < 4; rank++)
        assert.match(r.stdout, new RegExp(`^\\[pytorch-workers-0-${rank}-\\w+\\] rank ${rank}: done$`, "m"));

      const exited = new Promise<number | null>((resolve) => controller?.once("exit", (code) => resolve(code)));
      controller.kill("SIGTERM");
      assert.equal(await exited, 0, controllerLog);
    });
  });

  test("(b) `npx jobset run` of a shipped example on the ephemeral local cluster, without building Kubernetes", async () => {
    const r = await exec(
      "npx",
      ["jobset", "run", "node_modules/jobset-ts/examples/hello.yaml", "--timeout", "3m"],
      project,
      userEnv(home),
    );
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /starting an ephemeral local cluster/);
    assert.doesNotMatch(r.stderr, /^building /m);
    assert.match(r.stdout, /^JobSet default\/hello completed$/m);
  });
});
