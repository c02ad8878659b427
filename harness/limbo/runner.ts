import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { nodeModuleArgs } from '../node-child.ts';
import { certificate, once } from '../../certs/index.ts';
import { DEFAULT_CASE_TIMEOUT_MS, runLanes, type ChildRequest, type HelperMessage, type OwnCertificate } from './lanes.ts';
import type { LimboTestcase, TestcaseResult } from './model.ts';
import { skipContext, skipsOf } from './skips.ts';

/**
 * Runs limbo test cases as real handshakes. Cases Node cannot express are SKIPPED up front (skips.ts). Cases without
 * a validation_time run now: over `jobs` lanes in this process (lanes.ts) and, from the moment they are up, over
 * `jobs` lanes in each of `helpers` child processes, all taking the next case from one queue. A handshake here is
 * CPU-bound in one thread (a case costs 5–7 ms of CPU on Node 20, whose OpenSSL 3.0 decodes PEM keys and certificates
 * slowly, ~3 ms on Node 22+), so the second core only helps from a second process: worker threads contend for
 * OpenSSL 3.0's locks (measured: two threads loading contexts each took twice as long).
 * Cases with a validation_time are grouped by that time, and each group runs in a child Node process whose clock
 * libfaketime has frozen at it (`faketime -f '<time>'`), where OpenSSL, Node and the lanes see that time; without
 * faketime such cases are SKIPPED with that reason.
 */

export interface RunOptions {
  /** Concurrent lanes (each one case at a time); default 4. */
  jobs?: number;
  /** Bound on one case, in ms; a case that reaches it is a FAILURE whose context starts with `timeout:`. */
  timeoutMs?: number;
  /** The faketime program, or undefined when this machine has none (findExecutable('faketime')). */
  faketime: string | undefined;
  /**
   * Child processes that help with the cases run now; default: one per CPU beyond the first, at most 3, and none for
   * fewer than HELPER_MIN_CASES cases.
   */
  helpers?: number;
}

export interface RunReport {
  /** One result per case, in the order given. */
  results: TestcaseResult[];
  /**
   * The cases run now (no validation_time): how many, how many of them the helper processes ran, and the time from
   * the first to the last of them, helpers' start-up included.
   */
  now: { cases: number; byHelpers: number; helpers: number; seconds: number };
  /** Handshakes run under faketime: how many, in how many child processes, and how long that took. */
  faketime: { cases: number; groups: number; seconds: number };
}

export const DEFAULT_JOBS = 4;

/**
 * Fewer cases than this run in this process alone: a helper takes ~0.4 s to start (Node, and tsx in a checkout of the
 * repository) and a case 3–8 ms,
 * so a smaller suite is over before a helper could take a share (measured on 41 cases: 160 cases/s alone, 130 with
 * a helper that was spawned and stopped unused).
 */
const HELPER_MIN_CASES = 100;

/** The lanes' own server certificate (lanes.ts OwnCertificate), minted once per run in the parent. */
const ownCertificate = once(async (): Promise<OwnCertificate> => {
  const credential = await certificate('tls-harness limbo server').serverAuth().dns('localhost').build();
  return { key: credential.keyPem, cert: credential.certPem };
});

function defaultHelpers(): number {
  return Math.min(3, availableParallelism() - 1);
}

export async function runLimbo(testcases: readonly LimboTestcase[], options: RunOptions): Promise<RunReport> {
  const jobs = options.jobs ?? DEFAULT_JOBS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
  const results = new Map<string, TestcaseResult>();
  const now: LimboTestcase[] = [];
  const timed = new Map<string, LimboTestcase[]>();
  for (const testcase of testcases) {
    const skips = skipsOf(testcase);
    if (skips.length > 0) {
      results.set(testcase.id, { id: testcase.id, actual_result: 'SKIPPED', context: skipContext(skips) });
    } else if (testcase.validation_time === null) {
      now.push(testcase);
    } else if (options.faketime === undefined) {
      const reason = `validation_time ${testcase.validation_time}: faketime (libfaketime) is not installed, and Node has no other way to verify at another time`;
      results.set(testcase.id, {
        id: testcase.id,
        actual_result: 'SKIPPED',
        context: skipContext([{ feature: 'validation-time', reason }]),
      });
    } else {
      const at = clockTime(testcase.validation_time);
      timed.set(at, [...(timed.get(at) ?? []), testcase]);
    }
  }

  const own = await ownCertificate();
  const started = performance.now();
  const helpers = now.length === 0 ? 0 : (options.helpers ?? (now.length >= HELPER_MIN_CASES ? defaultHelpers() : 0));
  const shared = await runShared(own, now, jobs, timeoutMs, helpers);
  for (const result of shared.results) results.set(result.id, result);
  const nowSeconds = (performance.now() - started) / 1000;

  const faketimeStarted = performance.now();
  const groups = [...timed.entries()];
  const faketime = options.faketime;
  if (faketime !== undefined) {
    const running = new Set<ChildProcess>();
    try {
      await eachConcurrently(groups, Math.min(jobs, groups.length), async ([at, group]) => {
        for (const result of await runUnderFaketime(faketime, own, at, group, timeoutMs, running)) results.set(result.id, result);
      });
    } finally {
      // One group failed: the others' children are not waited for.
      for (const child of running) killGroup(child);
    }
  }
  const faketimeSeconds = (performance.now() - faketimeStarted) / 1000;

  return {
    results: testcases.map((testcase) => results.get(testcase.id) as TestcaseResult),
    now: { cases: now.length, byHelpers: shared.byHelpers, helpers, seconds: nowSeconds },
    faketime: { cases: groups.reduce((sum, [, group]) => sum + group.length, 0), groups: groups.length, seconds: faketimeSeconds },
  };
}

/**
 * The cases run now, from one queue, over this process's lanes and `helpers` child processes' lanes. A helper asks
 * for a case whenever one of its lanes is free; a helper that has taken none when this process's lanes run out of
 * cases is stopped (it was still starting: waiting for it would only add its start-up), one that has is waited for.
 * A helper that dies with cases in hand breaks the run (an Error), since those cases have no result.
 */
async function runShared(
  own: OwnCertificate,
  testcases: readonly LimboTestcase[],
  jobs: number,
  timeoutMs: number,
  helpers: number,
): Promise<{ results: TestcaseResult[]; byHelpers: number }> {
  const results = new Map<string, TestcaseResult>();
  // Heaviest first (by the PEM text to load and verify: a 100-certificate chain costs ~70 ms on Node 20, a plain case
  // ~5 ms), so that no lane is left alone with a heavy case while the others have finished.
  const queue = [...testcases].sort((a, b) => weight(b) - weight(a));
  let index = 0;
  let byHelpers = 0;
  const take = () => queue[index++];
  const record = (result: TestcaseResult) => results.set(result.id, result);
  const children: { child: ChildProcess; taken: number; returned: number; exited: Promise<void> }[] = [];
  for (let n = 0; n < helpers; n++) {
    const child = spawn(process.execPath, [...nodeModuleArgs(import.meta.url, './limbo-child'), 'helper'], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const entry = { child, taken: 0, returned: 0, exited: Promise.resolve() };
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    entry.exited = new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.once('exit', (code, signal) => {
        if (entry.taken === entry.returned) resolve();
        else
          reject(
            new Error(
              `a limbo helper process ended (${code ?? signal}) with cases in hand: ${Buffer.concat(stderr).toString('utf8').trim()}`,
            ),
          );
      });
    });
    entry.exited.catch(() => undefined); // awaited below
    child.on('message', (message: HelperMessage) => {
      if (message.kind === 'want') {
        const testcase = take();
        if (testcase !== undefined) entry.taken++;
        // A send that fails leaves `taken` ahead of `returned`: the exit then reports the lost case.
        child.send({ kind: 'case', testcase: testcase ?? null } satisfies HelperMessage, () => undefined);
      } else if (message.kind === 'result') {
        entry.returned++;
        byHelpers++;
        record(message.result);
      }
    });
    child.send({ kind: 'start', jobs, timeoutMs, own } satisfies HelperMessage, () => undefined);
    children.push(entry);
  }
  let failed = false;
  try {
    if (testcases.length > 0) await runLanes(own, take, Math.min(jobs, testcases.length), timeoutMs, record);
  } catch (error) {
    // This process's lanes broke (e.g. no server could listen): the run has no result, so the helpers stop too.
    failed = true;
    index = queue.length;
    throw error;
  } finally {
    for (const entry of children) if (failed || entry.taken === 0) entry.child.kill();
    await Promise.allSettled(children.map((entry) => entry.exited));
  }
  await Promise.all(children.map((entry) => entry.exited));
  return { results: testcases.map((testcase) => results.get(testcase.id) as TestcaseResult), byHelpers };
}

/**
 * The clock a validation_time is run at, as libfaketime's absolute, frozen form `YYYY-MM-DD HH:MM:SS` (UTC; the child
 * gets TZ=UTC). OpenSSL compares times in whole seconds, so a fractional time is run at its second.
 */
export function clockTime(validationTime: string): string {
  return new Date(Math.floor(Date.parse(validationTime) / 1000) * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, '');
}

/**
 * One group of cases in a child Node process under `faketime -f '<at>'`: a frozen wall clock (libfaketime's absolute
 * form without '@'), with the monotonic clock left alone (FAKETIME_DONT_FAKE_MONOTONIC) so that the child's timers
 * still run. The child checks that its clock reads `at` before it handshakes. The whole child is bounded too: it gets
 * every case's time plus 30 s to start, and is killed (its process group: faketime forks Node) when it overstays.
 */
async function runUnderFaketime(
  faketime: string,
  own: OwnCertificate,
  at: string,
  testcases: LimboTestcase[],
  timeoutMs: number,
  running: Set<ChildProcess>,
): Promise<TestcaseResult[]> {
  const request: ChildRequest = { at, testcases, timeoutMs, own };
  const child = spawn(faketime, ['-f', at, process.execPath, ...nodeModuleArgs(import.meta.url, './limbo-child')], {
    env: { ...process.env, TZ: 'UTC', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => undefined); // a child that died early: its exit says why
  child.stdin.end(JSON.stringify(request));
  const budgetMs = timeoutMs * testcases.length + 30_000;
  let overstayed = false;
  const timer = setTimeout(() => {
    overstayed = true;
    killGroup(child);
  }, budgetMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  }).finally(() => clearTimeout(timer));
  if (overstayed) {
    return testcases.map((t) => ({
      id: t.id,
      actual_result: 'FAILURE',
      context: `timeout: the faketime child for ${at} gave no results within ${budgetMs} ms`,
    }));
  }
  if (exitCode !== 0) {
    throw new Error(`the faketime child for ${at} exited with ${exitCode}: ${Buffer.concat(stderr).toString('utf8').trim()}`);
  }
  return (JSON.parse(Buffer.concat(stdout).toString('utf8')) as { results: TestcaseResult[] }).results;
}

/** Kill a detached child's whole process group (faketime runs Node as its child); one already gone is fine. */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group has exited already
  }
}

function weight(testcase: LimboTestcase): number {
  const pems = [testcase.peer_certificate, ...testcase.untrusted_intermediates, ...testcase.trusted_certs, ...testcase.crls];
  return pems.reduce((sum, pem) => sum + pem.length, 0);
}

async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
