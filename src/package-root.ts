// Files that ship with the package (the kube/ Go module, config/, examples/) are found from the package
// root, never from a module's own location: the same module runs from the TypeScript sources
// (<root>/src/…/*.ts) and from the compiled build (<root>/dist/src/…/*.js, also inside node_modules),
// and a path like "../../kube" means a different directory in each.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package root for this file's URL: its parent's parent when it is the compiled
 * <root>/dist/src/package-root.js, its parent when it is the source <root>/src/package-root.ts.
 */
export function packageRootOf(moduleUrl: string): string {
  const file = fileURLToPath(moduleUrl);
  const src = dirname(file); // <root>/src or <root>/dist/src
  return file.endsWith(".ts") ? dirname(src) : dirname(dirname(src));
}

/** The root directory of this package (where package.json, kube/, config/ and examples/ are). */
export const packageRoot: string = packageRootOf(import.meta.url);

/** A path inside the package, e.g. packagePath("kube", "cmd"). */
export function packagePath(...segments: string[]): string {
  return join(packageRoot, ...segments);
}
