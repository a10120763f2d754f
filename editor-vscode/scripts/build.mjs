// Bundles the extension (dist/extension.js) and the extension-host test suite (out/test/) with esbuild.
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const watch = process.argv.includes("--watch");
// The packaged extension is minified and has no source map; builds for tests keep both readable.
const production = process.argv.includes("--production");

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: !production,
  minify: production,
  external: ["vscode"],
  logLevel: "warning",
};

const testDir = path.join(root, "test", "integration");
const testEntries = fs.existsSync(testDir)
  ? fs.readdirSync(testDir).filter((f) => f === "index.ts" || f.endsWith(".test.ts")).map((f) => path.join(testDir, f))
  : [];

const builds = [
  { ...common, entryPoints: [path.join(root, "src", "extension.ts")], outfile: path.join(root, "dist", "extension.js") },
];
if (testEntries.length > 0) {
  // Mocha stays external: it is loaded from node_modules inside the extension host.
  builds.push({ ...common, entryPoints: testEntries, outdir: path.join(root, "out", "test", "integration"), external: ["vscode", "mocha"] });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
