#!/usr/bin/env node
// In the installed package the CLI is built JavaScript (dist/). In a checkout of the repository, where the
// TypeScript sources sit next to this file, it runs them through tsx's ESM hooks (a development dependency), so
// that the CLI never runs a stale build; a checkout installed without its development dependencies runs its dist/.
import { existsSync } from 'node:fs';

const source = new URL('../harness/cli/main.ts', import.meta.url);
const tsx = existsSync(source) ? await import('tsx/esm/api').catch(() => undefined) : undefined;
if (tsx) {
  tsx.register();
  await (await import(source.href)).runCommandLine();
} else {
  await (await import('../dist/harness/cli/main.js')).runCommandLine();
}
