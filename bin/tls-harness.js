#!/usr/bin/env node
// The CLI is TypeScript like the rest of the harness: load tsx's ESM hooks, then the real entry point.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
