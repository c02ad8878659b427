// `npm run build` (and `npm pack`, through prepack): compile certs/ and harness/ to dist/ as JavaScript with .d.ts
// declarations, and copy the files that are not TypeScript but run from there (the Python probe's script).
// Plain JavaScript, so that it runs with nothing but Node and the dev dependencies.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const assets = ['harness/probes/external/python-probe.py'];

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
for (const asset of assets) copyFileSync(new URL(`../${asset}`, import.meta.url), new URL(`../dist/${asset}`, import.meta.url));
