// Entry point of the extension-host test suite (the `extensionTestsPath` of the payload URL):
// runs the mocha suites in this folder inside VS Code and writes a JSON summary for the runner.
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";

export function run(): Promise<void> {
  // The tests build on each other (one session, as a person's), so the first failure ends the run.
  const mocha = new Mocha({ ui: "bdd", timeout: 60_000, color: false, reporter: "spec", bail: true });
  for (const f of fs.readdirSync(__dirname)) if (f.endsWith(".test.js")) mocha.addFile(path.join(__dirname, f));
  const results: { title: string; state: "passed" | "failed"; error?: string }[] = [];
  const out = process.env.TANDEM_TEST_RESULTS;
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      if (out) fs.writeFileSync(out, JSON.stringify({ total: runner.total, results }, null, 2));
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
    runner.on("pass", (t) => results.push({ title: t.fullTitle(), state: "passed" }));
    runner.on("fail", (t, err: Error) => results.push({ title: t.fullTitle(), state: "failed", error: String(err?.stack ?? err) }));
  });
}
