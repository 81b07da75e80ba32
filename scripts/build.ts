// `npm run build`: emits src/ and bin/ as JavaScript into dist/ (tsconfig.build.json) and stamps the
// build: dist/src/build-info.json with the source commit ($JOBSET_COMMIT — the Dockerfile passes its
// COMMIT build arg — else `git rev-parse HEAD`, else "unknown") and the build time ($SOURCE_DATE_EPOCH
// for reproducible builds, else now). Runs the TypeScript compiler with the running Node, so it works
// where node_modules/.bin/node (the dev-dependency Node) was not installed (`npm ci --ignore-scripts`).
//
// Then bundles the CLI with esbuild (bundle()): dist/bundle/jobset.js, the command the package's
// bin/jobset.js and the container image run, with every subcommand a lazily loaded chunk (docs/adr,
// the bundle's ADR). The tsc emit stays: the SDK (package.json `exports`) and its declarations are dist/src/.
//
// Declarations (.d.ts) are emitted too, for the SDK's types (package.json `exports`). They describe
// Kubernetes objects with the models of @kubernetes/client-node, a devDependency of 65 MB that an
// installed package must not need: the model declarations the API uses (and those they refer to) are
// copied into dist/kubernetes-types/ and src/api/k8s.d.ts is pointed at them (docs/adr, the SDK's ADR).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { rfc3339 } from "../src/api/time.ts";
import { BuildInfoFile } from "../src/version.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function resolveCommit(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.JOBSET_COMMIT?.trim();
  if (fromEnv) return fromEnv;
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

export function resolveBuildDate(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  const d = env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? new Date(epoch * 1000) : new Date();
  return rfc3339(d);
}

export function build(outDir: string = join(root, "dist")): void {
  rmSync(outDir, { recursive: true, force: true });
  const pkgJson = createRequire(import.meta.url).resolve("typescript/package.json");
  const tsc = join(dirname(pkgJson), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", outDir], {
    cwd: root,
    stdio: "inherit",
  });
  vendorKubernetesTypes(outDir);
  const info = { commit: resolveCommit(), buildDate: resolveBuildDate() };
  writeFileSync(join(outDir, "src", BuildInfoFile), `${JSON.stringify(info, null, 2)}\n`);
  bundle(outDir);
  console.log(`built ${outDir} (commit ${info.commit}, ${info.buildDate})`);
}

/**
 * The bundle's directory in dist/. Two levels below the package root, as the tsc emit's top modules
 * (dist/src/*.js) are, and every chunk directly in it: the paths the modules compute from their own
 * import.meta.url come out the same — the package root (src/package-root.ts), bin/jobset.js of the
 * package (src/cli/up.ts), build-info.json beside the module (src/version.ts), web/ beside it (src/ui/assets.ts).
 */
export const BundleDir = "bundle";

/**
 * For CommonJS dependencies that require() Node's built-ins: esbuild's require shim calls a `require`
 * when one is in scope. (Aliased: a bundled module may import createRequire itself.)
 */
const RequireBanner =
  'import{createRequire as __jobsetCreateRequire}from"node:module";const require=__jobsetCreateRequire(import.meta.url);';

/**
 * Bundles src/cli/jobset.ts (the `jobset` command) with its dependencies into <outDir>/bundle/: the
 * entry jobset.js, and chunks that each subcommand's dynamic import loads when it runs (code splitting:
 * `jobset version` does not load the controller). ES modules for the pinned Node, not minified (stack
 * traces keep names; minifying measured no gain), with source maps in .map files beside them that Node
 * does not read unless --enable-source-maps (which costs much RSS with a bundle). Then copies in what
 * the modules read beside themselves: the build stamp and the UI's browser modules. package.json (the
 * version) is inlined. Returns the files written.
 */
export function bundle(outDir: string): string[] {
  const dir = join(outDir, BundleDir);
  rmSync(dir, { recursive: true, force: true });
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: { jobset: join(root, "src", "cli", "jobset.ts") },
    outdir: dir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    sourcemap: "linked",
    sourcesContent: false,
    banner: { js: RequireBanner },
    logLevel: "warning",
    metafile: true,
  });
  cpSync(join(outDir, "src", BuildInfoFile), join(dir, BuildInfoFile));
  const web = join(outDir, "src", "ui", "web");
  cpSync(web, join(dir, "web"), { recursive: true, filter: (f) => f === web || f.endsWith(".js") });
  return Object.keys(result.metafile.outputs);
}

const KubernetesPackage = "@kubernetes/client-node";

/** Every .d.ts file under `dir`. */
function declarations(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? declarations(p) : e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** Names the model files take from the package's types.js (written here, without the rest of the package). */
const HelperTypes: Record<string, string> = {
  IntOrString: "export type IntOrString = number | string;\n",
  V1MicroTime: "export declare class V1MicroTime extends Date {\n    toISOString(): string;\n}\n",
};

/**
 * Makes the emitted declarations stand alone: relative imports end in .js (not the sources' .ts), and
 * copies the @kubernetes/client-node model declarations that the emitted declarations refer to (the
 * imports of src/api/k8s.d.ts and the `import("…").Name` types inlined elsewhere), with every model
 * they refer to, into <outDir>/kubernetes-types/, and points those references there. Returns the
 * number of models copied.
 */
export function vendorKubernetesTypes(outDir: string): number {
  const into = join(outDir, "kubernetes-types");
  const spec = (from: string) => {
    const r = relative(dirname(from), join(into, "index.js")).split(sep).join("/");
    return r.startsWith(".") ? r : `./${r}`;
  };
  const roots = new Set<string>();
  const quoted = JSON.stringify(KubernetesPackage);
  for (const file of declarations(join(outDir, "src"))) {
    let text = readFileSync(file, "utf8");
    // Relative specifiers as the JavaScript has them (.js), which every TypeScript version resolves.
    const js = text.replace(/((?:from |import\()"\.{1,2}\/[^"]*)\.ts"/g, '$1.js"');
    if (js !== text) writeFileSync(file, js);
    text = js;
    if (!text.includes(quoted)) continue;
    const imported = new RegExp(`import type \\{([^}]*)\\} from ${quoted};`).exec(text)?.[1] ?? "";
    for (const n of imported.split(",")) if (n.trim()) roots.add(n.trim());
    for (const m of text.matchAll(new RegExp(`import\\(${quoted}\\)\\.(\\w+)`, "g"))) roots.add(m[1] as string);
    writeFileSync(file, text.replaceAll(quoted, JSON.stringify(spec(file))));
  }
  const pkgDir = dirname(createRequire(import.meta.url).resolve(`${KubernetesPackage}/package.json`));
  const models = join(pkgDir, "dist", "gen", "models");
  mkdirSync(join(into, "gen", "models"), { recursive: true });
  const seen = new Set<string>();
  const queue = [...roots].filter((n) => !(n in HelperTypes));
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const file = join(models, `${name}.d.ts`);
    if (!existsSync(file)) throw new Error(`${KubernetesPackage}: no model declaration ${file}`);
    const d = readFileSync(file, "utf8");
    for (const ref of d.matchAll(/from '\.\.\/models\/(\w+)\.js'/g)) queue.push(ref[1] as string);
    writeFileSync(join(into, "gen", "models", `${name}.d.ts`), d);
  }
  writeFileSync(join(into, "types.d.ts"), Object.values(HelperTypes).join(""));
  const lines = [...roots]
    .sort()
    .map((n) => `export { ${n} } from "${n in HelperTypes ? "./types.js" : `./gen/models/${n}.js`}";\n`);
  writeFileSync(
    join(into, "index.d.ts"),
    `// Model declarations of ${KubernetesPackage} (Apache-2.0), generated from the Kubernetes OpenAPI schema.\n${lines.join("")}`,
  );
  return seen.size;
}

if (import.meta.main) build(process.argv[2]);
