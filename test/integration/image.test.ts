// The container image, checked without a Docker engine: the Dockerfile's invariants (pinned base that
// matches the project's Node, non-root numeric USER, no node_modules and no build tools in the final
// stage, the `jobset controller` entrypoint on the bundle), and the build itself — `npm run build`'s
// dist/ laid out as in the image, with no node_modules anywhere above it, runs `jobset version` with the
// stamped commit, lints, and runs `jobset controller` until it is ready against the API server; the
// bundle imports Node's built-ins only, the tsc emit (the SDK) only production dependencies.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseEntrypoint } from "../../bench/deployed-node-flags.ts";
import { freePort } from "../../src/local/controlplane.ts";
import { testNamespace, useCluster, waitFor } from "../support/cluster.ts";

const execFileP = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** A Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let cur = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && cur === "")) continue;
    if (line.endsWith("\\")) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    cur += line;
    if (cur.trim()) logical.push(cur.trim());
    cur = "";
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s+(.*)$/s.exec(l);
    assert.ok(m, `cannot parse Dockerfile line: ${l}`);
    const op = (m[1] as string).toUpperCase();
    const rest = m[2] as string;
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(f, `bad FROM: ${rest}`);
      const stage: Stage = { from: f[1] as string, instructions: [] };
      if (f[2]) stage.name = f[2];
      stages.push(stage);
    } else if (stages.length === 0) {
      assert.equal(op, "ARG", "only ARG may precede the first FROM");
      const [k, v = ""] = rest.split("=", 2);
      args[k as string] = v;
    } else {
      (stages.at(-1) as Stage).instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(root, "Dockerfile"), "utf8"));
const resolveImage = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_, k: string) => dockerfile.args[k] ?? "");
const finalStage = dockerfile.stages.at(-1) as Stage;

describe("Dockerfile", () => {
  test("multi-stage, every stage on the same pinned Node LTS image as package.json's Node", () => {
    assert.ok(dockerfile.stages.length >= 2, "multi-stage");
    const node = pkg.devDependencies.node;
    assert.match(node ?? "", /^\d+\.\d+\.\d+$/, "package.json pins an exact Node");
    const major = Number((node as string).split(".")[0]);
    assert.equal(major % 2, 0, "an LTS (even) major");
    for (const s of dockerfile.stages) {
      const image = resolveImage(s.from);
      if (dockerfile.stages.some((o) => o.name === s.from)) continue; // FROM an earlier stage
      assert.match(image, /^node:(\d+\.\d+\.\d+)-bookworm-slim(@sha256:[0-9a-f]{64})?$/, `pinned base: ${image}`);
      assert.equal(image.split(":")[1]?.split("-")[0], node, "the Node release package.json pins");
    }
  });

  test("the final stage runs as a non-root numeric user", () => {
    const users = finalStage.instructions.filter((i) => i.op === "USER");
    assert.equal(users.length, 1);
    const [uid, gid] = (users[0] as Instruction).args.split(":");
    assert.equal(uid, "65532");
    assert.equal(gid, "65532");
    // USER comes after every RUN/COPY: nothing of the final image is written as that user at build time
    const idx = finalStage.instructions.indexOf(users[0] as Instruction);
    assert.ok(finalStage.instructions.slice(idx + 1).every((i) => i.op !== "RUN"));
  });

  test("the final stage holds no node_modules and no build tools: the bundle has the dependencies in it", () => {
    const copies = finalStage.instructions.filter((i) => i.op === "COPY");
    for (const c of copies) {
      assert.match(c.args, /^--from=/, `final stage copies only from earlier stages: COPY ${c.args}`);
      assert.doesNotMatch(c.args, /\bnode_modules\b/, `no node_modules: COPY ${c.args}`);
      assert.doesNotMatch(c.args, /\b(src|scripts|test|tsconfig[^ ]*)\s/, `no sources: COPY ${c.args}`);
    }
    assert.ok(
      finalStage.instructions.every((i) => i.op !== "RUN" || !/npm (ci|install)/.test(i.args)),
      "no install in the final stage",
    );
    const build = dockerfile.stages.find((s) => s.instructions.some((i) => /scripts\/build\.ts/.test(i.args)));
    assert.ok(build, "a build stage runs scripts/build.ts");
    assert.ok(copies.some((c) => c.args.startsWith(`--from=${build.name} `) && /\bdist\b/.test(c.args)));
  });

  test("entrypoint: node (with the controller's Node flags, if any) running the bundle's controller command", () => {
    const eps = finalStage.instructions.filter((i) => i.op === "ENTRYPOINT");
    assert.equal(eps.length, 1);
    const e = parseEntrypoint(`ENTRYPOINT ${(eps[0] as Instruction).args}`);
    assert.equal(e.script, "/app/dist/bundle/jobset.js");
    assert.deepEqual(e.args, ["controller"]);
    for (const f of e.nodeFlags) assert.match(f, /^--?[a-z]/, `a Node flag: ${f}`);
    assert.ok(finalStage.instructions.some((i) => i.op === "WORKDIR" && i.args === "/app"));
  });

  test(".dockerignore keeps the build context to what the Dockerfile copies", () => {
    const lines = readFileSync(join(root, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    assert.equal(lines[0], "*", "deny by default");
    for (const s of dockerfile.stages) {
      for (const c of s.instructions.filter((i) => i.op === "COPY" && !i.args.startsWith("--from="))) {
        const sources = c.args.split(/\s+/).slice(0, -1);
        for (const src of sources) {
          const p = src.replace(/^\.\//, "");
          assert.ok(lines.includes(`!${p}`) || lines.includes(`!${p}/`), `.dockerignore lets ${p} into the context`);
        }
      }
    }
  });
});

describe("the build as laid out in the image (no node_modules)", () => {
  let app = "";
  before(async () => {
    // /app/package.json and /app/dist, outside this checkout: no node_modules in any directory above
    app = join(mkdtempSync(join(tmpdir(), "jobset-image-")), "app");
    await execFileP(process.execPath, [join(root, "scripts", "build.ts"), join(app, "dist")], {
      env: { ...process.env, JOBSET_COMMIT: "0123456789abcdef0123456789abcdef01234567", SOURCE_DATE_EPOCH: "0" },
    });
    writeFileSync(join(app, "package.json"), readFileSync(join(root, "package.json")));
    assert.throws(
      () => createRequire(join(app, "dist", "bundle", "jobset.js")).resolve("yaml"),
      /Cannot find module/,
      "a package resolves from the image layout: it would hide a dependency the bundle leaves out",
    );
  });
  after(() => {
    if (app) rmSync(dirname(app), { recursive: true, force: true });
  });

  /** The image's entrypoint script (dist/bin/jobset.js, the agent's documented command, runs the same bundle). */
  const jobset = (...args: string[]) =>
    execFileP(process.execPath, [join(app, "dist", "bundle", "jobset.js"), ...args]);

  test("`jobset version` prints the version of package.json and the stamped commit", async () => {
    const { stdout } = await jobset("version", "-o", "json");
    const v = JSON.parse(stdout) as Record<string, string>;
    assert.equal(v.version, pkg.version);
    assert.equal(v.commit, "0123456789abcdef0123456789abcdef01234567");
    assert.equal(v.buildDate, "1970-01-01T00:00:00Z");
    assert.equal(v.node, process.version);
    const text = (await jobset("version")).stdout;
    assert.match(text, new RegExp(`^jobset ${pkg.version.replaceAll(".", "\\.")}\\ncommit: 0123456789abcdef`));
    const viaBin = await execFileP(process.execPath, [join(app, "dist", "bin", "jobset.js"), "version"]);
    assert.equal(viaBin.stdout, text);
  });

  test("the bundled CLI runs a command that loads the API and YAML libraries", async () => {
    const dir = mkdtempSync(join(dirname(app), "lint-"));
    const file = join(dir, "js.yaml");
    writeFileSync(
      file,
      "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata: {name: ok}\nspec:\n  replicatedJobs:\n" +
        "  - name: w\n    template:\n      spec:\n        template:\n          spec:\n            restartPolicy: Never\n" +
        "            containers: [{name: c, image: busybox}]\n",
    );
    const { stdout } = await jobset("lint", file);
    assert.equal(stdout, "");
    const help = (await jobset("help")).stdout;
    assert.match(help, /\n {2}version +Show the version/);
  });

  test("`jobset controller` from the bundle, with the ENTRYPOINT's Node flags, becomes ready against the API server, and exits 0 on SIGTERM", async (t) => {
    const eps = finalStage.instructions.filter((i) => i.op === "ENTRYPOINT");
    const { nodeFlags } = parseEntrypoint(`ENTRYPOINT ${(eps[0] as Instruction).args}`);
    const cluster = await useCluster("apiserver");
    const ns = await testNamespace(t, cluster);
    const port = await freePort();
    let output = "";
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        join(app, "dist", "bundle", "jobset.js"),
        "controller",
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--health-probe-bind-address=127.0.0.1:${port}`,
        "--metrics-bind-address=0",
        "--webhooks=false",
        "--leader-elect=false",
        "--zap-devel=false",
        `--namespace=${ns}`,
      ],
      { cwd: app, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdout?.on("data", (d) => {
      output += String(d);
    });
    child.stderr?.on("data", (d) => {
      output += String(d);
    });
    t.after(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    await waitFor(
      async () => {
        assert.equal(child.exitCode, null, `the controller exited:\n${output}`);
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r?.status === 200;
      },
      { message: `readyz (output: ${output})` },
    );
    child.kill("SIGTERM");
    assert.equal(await exited, 0, output);
  });

  test("run-time imports: the bundle's Node built-ins only; the tsc emit's production dependencies", () => {
    const prod = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const bundle = join(app, "dist", "bundle");
    // the bundle's own modules; its web/ has the UI's browser modules, importing preact and htm by the page's import map
    const bundled = (file: string) => dirname(file) === bundle;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".js")) {
          const src = readFileSync(p, "utf8");
          for (const m of src.matchAll(
            /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\b__require\(\s*)["']([^"']+)["']/gm,
          )) {
            const spec = m[1] as string;
            if (spec.startsWith(".") || spec.startsWith("node:") || builtins.has(spec)) continue;
            const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string);
            if (bundled(p) || !prod.has(name)) offenders.push(`${p.slice(app.length)}: ${spec}`);
          }
          assert.doesNotMatch(src, /from\s*["']\.[^"']*\.ts["']/, `${p}: relative .ts import left in the emit`);
        }
      }
    };
    walk(join(app, "dist"));
    assert.deepEqual(offenders, []);
    assert.ok(
      readdirSync(bundle).some((f) => /^controller-.*\.js$/.test(f)),
      "the controller is a chunk of its own",
    );
  });
});
