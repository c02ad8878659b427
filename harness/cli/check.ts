import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { certificate } from '../../certs/index.ts';
import { HOST, scenarioMaterial, startEndpoint, type Endpoint } from '../endpoint.ts';
import { OK } from '../expect.ts';
import { ALL_OK } from '../expect-tools.ts';
import { defineScenario, pems, type Scenario, type Verdict } from '../scenario.ts';
import { parseCount, parseSeconds, selectScenarios, watchForStop } from './args.ts';
import { stubCannotBeGraded } from './client-settings.ts';
import type { ClientOptions } from '../probes/options.ts';
import { UsageError } from './errors.ts';
import { hostArgument, startFleet, writeClientFiles, type Fleet, type Served } from './fleet.ts';
import type { Io } from './io.ts';
import type { CommandContext } from './main.ts';

export const CHECK_HELP = `Usage: tls-harness check [--json] [--only ids] [--skip ids] [--timeout S] [--jobs N] -- CMD [ARGS…]

Test any TLS client against the catalog. For every scenario, serve its endpoint on 127.0.0.1 and run
  CMD ARGS… <host> <port> [<ca-bundle>]
— a trytls client stub: it connects, and the last line it prints is ACCEPT, REJECT or UNSUPPORTED. check compares
that with what a strict client must do and prints one PASS, FAIL or SKIP line per scenario with the stub's own words,
then "N passed, M failed" (", K skipped" where any). Exit code 1 when anything failed.

What the stub gets:
  <host>        the name to ask for (SNI) and verify, e.g. localhost; 127.0.0.1 where the scenario connects by IP
  <port>        the endpoint's port
  <ca-bundle>   a PEM file of the CAs to trust instead of the system store; omitted where the scenario's client
                uses the system's default store
  TLS_HARNESS_ADDRESS=127.0.0.1   connect here instead of resolving <host> (curl --resolve, Python
                create_connection, Node's host + servername). Needed for names such as a.b.example.test; check
                first runs the stub on a canary name and skips those scenarios if the stub does not accept it.
  TLS_HARNESS_TIMEOUT=S/2         seconds the stub should give one connection before it gives up (REJECT);
                                  shorter where the scenario's client has its own timeout
  TLS_HARNESS_SCENARIO=<id>       the scenario, for the stub's own logging
Scenarios whose verdict depends on client settings this convention cannot carry (a client certificate, CRLs,
pinned TLS versions or ciphers, ALPN, rejectUnauthorized, a custom identity check) and those whose server cannot
start are SKIPped with the reason. Example stubs: stubs/node.mjs, stubs/curl.sh, stubs/python.py.

Options:
  --json        one JSON object per scenario and line { "id", "family", "expect", "result", "verdict"?,
                "reason"?, "context"?, "host", "port", "servername" }, then { "passed", "failed", "skipped" }
  --only IDS    only these scenarios (comma-separated; repeatable)
  --skip IDS    skip these scenarios (comma-separated; repeatable), e.g. failures you have accepted
  --timeout S   seconds to wait for a stub's verdict before killing it (a FAIL); default 10
  --jobs N      stubs to run at once; default ${defaultJobs()}
  -h, --help    show this help

Examples:
  tls-harness check -- node stubs/node.mjs
  tls-harness check --only expired-leaf,wrong-host -- python3 stubs/python.py
  tls-harness check --skip cn-only,only-intermediate-trusted -- stubs/curl.sh
`;

/** What check makes of one scenario. */
export interface CheckResult {
  id: string;
  family: string;
  expect: Verdict;
  result: 'PASS' | 'FAIL' | 'SKIP';
  /** The stub's verdict, when it gave one. */
  verdict?: 'ACCEPT' | 'REJECT' | 'UNSUPPORTED';
  /** Why a scenario was skipped, or why a FAIL has no verdict. */
  reason?: string;
  /** What the stub printed before its verdict (or, without one, its last line on stderr). */
  context?: string;
  host?: string;
  port?: number;
  servername?: string | null;
}

/** A name that resolves nowhere, served by a healthy endpoint: does the stub connect to TLS_HARNESS_ADDRESS? */
export const CANARY_NAME = 'canary.tls-harness.test';

const canaryScenario: Scenario = defineScenario({
  id: 'check-canary',
  family: 'control',
  title: `Healthy endpoint for ${CANARY_NAME}, a name that resolves nowhere`,
  cause: 'Nothing is wrong: check runs the stub here first, to learn whether it connects to TLS_HARNESS_ADDRESS.',
  fix: 'Nothing to fix.',
  expect: 'accept',
  async setup(pki) {
    const leaf = await certificate(CANARY_NAME)
      .serverAuth()
      .dns(CANARY_NAME)
      .issuedBy(await pki.intermediateCa())
      .build();
    return { server: { chain: [leaf, await pki.intermediateCa()] }, client: { ca: pems(await pki.rootCa()), servername: CANARY_NAME } };
  },
  node: [{ expect: OK }],
  tools: ALL_OK,
});

function defaultJobs(): number {
  return Math.min(16, Math.max(4, 2 * availableParallelism()));
}

export async function checkCommand(argv: string[], io: Io, context: CommandContext = {}): Promise<number> {
  const separator = argv.indexOf('--');
  const own = separator < 0 ? argv : argv.slice(0, separator);
  const { values, positionals } = parseArgs({
    args: own,
    options: {
      json: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      skip: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      jobs: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(CHECK_HELP);
    return 0;
  }
  const command = separator < 0 ? positionals : [...positionals, ...argv.slice(separator + 1)];
  const [program] = command;
  if (program === undefined) throw new UsageError('no stub command given: tls-harness check [options] -- CMD [ARGS…]');
  const scenarios = selectScenarios(values.only ?? []);
  const skipped = new Set(values.skip ? selectScenarios(values.skip).map((s) => s.id) : []);
  const timeoutMs = (values.timeout === undefined ? 10 : parseSeconds(values.timeout, '--timeout')) * 1000;
  const jobs = values.jobs === undefined ? defaultJobs() : parseCount(values.jobs, '--jobs');
  await checkExecutable(program);

  const stop = watchForStop(context.signal);
  const abort = new AbortController();
  void stop.stopped.then(() => abort.abort());
  let fleet: Fleet | undefined;
  let canary: Endpoint | undefined;
  try {
    fleet = await startFleet(scenarios);
    const plans = fleet.served.map((served) => plan(served, skipped));
    const stubRun = (endpoint: Endpoint, id: string, ca: string | undefined) =>
      runStub(
        command,
        [hostArgument(endpoint), String(endpoint.port), ...(ca ? [ca] : [])],
        stubEnvironment(id, timeoutMs, endpoint.clientOptions()),
        timeoutMs,
        abort.signal,
      );

    // Names other than localhost resolve nowhere: their verdicts count only if the stub honours TLS_HARNESS_ADDRESS.
    if (plans.some((p) => p.skip === undefined && p.served.endpoint && needsAddress(hostArgument(p.served.endpoint)))) {
      canary = await startEndpoint(canaryScenario);
      const canaryFiles = await writeClientFiles(canaryScenario.id, (await scenarioMaterial(canaryScenario)).client, fleet.dir);
      const run = await stubRun(canary, canaryScenario.id, canaryFiles.ca);
      const graded = grade(canaryScenario, run);
      if (graded.result !== 'PASS') {
        const why = `the stub did not accept the canary https://${CANARY_NAME}/ (${graded.verdict ?? graded.reason}${graded.context ? `: ${graded.context}` : ''})`;
        for (const p of plans) {
          if (p.skip === undefined && p.served.endpoint && needsAddress(hostArgument(p.served.endpoint))) {
            p.skip = `the host is ${hostArgument(p.served.endpoint)}, and ${why}; it seems not to connect to TLS_HARNESS_ADDRESS, so its verdict here would prove nothing`;
          }
        }
      }
    }

    const results: Array<CheckResult | undefined> = new Array(plans.length);
    const width = Math.max(...plans.map((p) => p.served.scenario.id.length));
    let printed = 0;
    const flush = () => {
      while (printed < results.length && results[printed]) {
        const result = results[printed] as CheckResult;
        io.out(values.json ? `${JSON.stringify(result)}\n` : `${line(result, width)}\n`);
        printed += 1;
      }
    };
    let next = 0;
    const worker = async () => {
      while (next < plans.length && !abort.signal.aborted) {
        const index = next++;
        const { served, skip } = plans[index] as Plan;
        const where = served.endpoint
          ? { host: hostArgument(served.endpoint), port: served.endpoint.port, servername: served.endpoint.servername ?? null }
          : {};
        const base = { id: served.scenario.id, family: served.scenario.family, expect: served.scenario.expect };
        if (skip !== undefined || !served.endpoint) {
          results[index] = { ...base, result: 'SKIP', reason: skip ?? 'no endpoint', ...where };
        } else {
          const run = await stubRun(served.endpoint, served.scenario.id, served.files.ca);
          if (abort.signal.aborted) return;
          results[index] = { ...base, ...grade(served.scenario, run), ...where };
        }
        flush();
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, plans.length) }, worker));
    if (abort.signal.aborted) {
      io.err('tls-harness: check interrupted\n');
      return 130;
    }
    const done = results.filter((r): r is CheckResult => r !== undefined);
    const count = (result: CheckResult['result']) => done.filter((r) => r.result === result).length;
    const summary = { passed: count('PASS'), failed: count('FAIL'), skipped: count('SKIP') };
    if (values.json) io.out(`${JSON.stringify(summary)}\n`);
    else io.out(`${summary.passed} passed, ${summary.failed} failed${summary.skipped > 0 ? `, ${summary.skipped} skipped` : ''}\n`);
    return summary.failed > 0 ? 1 : 0;
  } finally {
    stop.dispose();
    abort.abort();
    await Promise.all([fleet?.close(), canary?.close()]);
  }
}

interface Plan {
  served: Served;
  /** Why the scenario is skipped; undefined: run the stub. */
  skip: string | undefined;
}

/** Decide whether a stub's verdict on this scenario would mean what the scenario's verdict means. */
function plan(served: Served, skipped: ReadonlySet<string>): Plan {
  const { scenario, endpoint } = served;
  if (skipped.has(scenario.id)) return { served, skip: 'skipped on the command line (--skip)' };
  if (!endpoint) return { served, skip: `the server cannot start (${served.startError}): there is nothing to connect to` };
  return { served, skip: stubCannotBeGraded(scenario, served.material) };
}

function needsAddress(host: string): boolean {
  return host !== 'localhost' && isIP(host) === 0;
}

/**
 * The stub's environment. Its own timeout (TLS_HARNESS_TIMEOUT) is half of check's, or the scenario client's timeout
 * where the scenario declares a shorter one (a server that never answers: no need to wait seconds for that).
 */
function stubEnvironment(id: string, timeoutMs: number, client: ClientOptions): NodeJS.ProcessEnv {
  const stubTimeoutMs = Math.min(Math.max(500, timeoutMs / 2), client.timeoutMs ?? Infinity);
  return {
    ...process.env,
    ...Object.fromEntries(Object.entries(client.env ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
    TLS_HARNESS_ADDRESS: HOST,
    TLS_HARNESS_TIMEOUT: String(stubTimeoutMs / 1000),
    TLS_HARNESS_SCENARIO: id,
  };
}

/** Grade one stub run against what a strict client must do. */
export function grade(scenario: Scenario, run: StubRun): Pick<CheckResult, 'result' | 'verdict' | 'reason' | 'context'> {
  const lines = run.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const last = lines.at(-1);
  const before = lines.slice(0, -1).join(' | ');
  const stderrLast = run.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  const context = clip(before || stderrLast || '');
  const withContext = context ? { context } : {};
  if (run.spawnError) return { result: 'FAIL', reason: `the stub could not be started: ${run.spawnError}` };
  if (run.timedOut) return { result: 'FAIL', reason: `no verdict within ${run.timeoutMs / 1000} s: the stub was killed`, ...withContext };
  if (last === 'UNSUPPORTED') return { result: 'SKIP', verdict: last, reason: 'the stub says UNSUPPORTED', ...withContext };
  if (last === 'ACCEPT' || last === 'REJECT') {
    const pass = (last === 'ACCEPT') === (scenario.expect === 'accept');
    return { result: pass ? 'PASS' : 'FAIL', verdict: last, ...withContext };
  }
  const exit = run.exitCode === null ? `killed by ${run.signal}` : `exit code ${run.exitCode}`;
  const said = last === undefined ? 'printed nothing' : `ended with ${JSON.stringify(clip(last, 60))}`;
  return { result: 'FAIL', reason: `no verdict: the stub ${said} (${exit})`, ...(stderrLast ? { context: clip(stderrLast) } : {}) };
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function line(result: CheckResult, width: number): string {
  const id = result.id.padEnd(width);
  if (result.result === 'SKIP') return `SKIP  ${id}  ${result.reason}${result.context ? ` — ${result.context}` : ''}`;
  const outcome = result.verdict ? `got ${result.verdict}` : (result.reason ?? '');
  return `${result.result}  ${id}  expected ${result.expect}, ${outcome}${result.context ? ` — ${result.context}` : ''}`;
}

/** Make sure the stub command exists and is executable before anything starts. */
async function checkExecutable(program: string): Promise<void> {
  const candidates = program.includes('/')
    ? [resolve(program)]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, program));
  let found: string | undefined;
  for (const candidate of candidates) {
    try {
      if (!(await stat(candidate)).isFile()) continue;
      found ??= candidate;
      await access(candidate, constants.X_OK);
      return;
    } catch {
      // not here, or not executable: try the next one
    }
  }
  if (found) throw new UsageError(`stub command is not executable: ${program} (chmod +x, or run it through its interpreter)`);
  throw new UsageError(`stub command not found: ${program}`);
}

/** What one stub run left behind. */
export interface StubRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  timeoutMs: number;
  spawnError?: string;
}

const MAX_OUTPUT = 1 << 20;

/**
 * Run the stub in a process group of its own, so that a timeout or Ctrl-C kills it together with anything it started
 * (curl under a shell script), and wait until its output is closed.
 */
function runStub(command: string[], args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal): Promise<StubRun> {
  return new Promise((resolveRun) => {
    const [program, ...programArgs] = command as [string, ...string[]];
    const child = spawn(program, [...programArgs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = () => killGroup();
    if (signal.aborted) killGroup();
    else signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
    });
    child.once('error', (error) => (spawnError = error.message));
    child.once('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      killGroup(); // anything the stub left running in its group
      resolveRun({ exitCode, signal: exitSignal, stdout, stderr, timedOut, timeoutMs, ...(spawnError ? { spawnError } : {}) });
    });
  });
}
