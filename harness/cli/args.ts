import { readFile } from 'node:fs/promises';
import type { Scenario } from '../scenario.ts';
import { SCENARIOS, UnknownScenario, findScenario } from '../scenarios/index.ts';
import { UsageError } from './errors.ts';
import { outputClosed } from './io.ts';

/**
 * The scenarios named on the command line, in catalog order; every scenario when none is named. Each argument may
 * hold several ids separated by commas (`--only a,b` and `a b` both work).
 */
export function selectScenarios(args: readonly string[]): Scenario[] {
  const ids = args
    .flatMap((arg) => arg.split(','))
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) return [...SCENARIOS];
  const wanted = new Set<Scenario>();
  for (const id of ids) {
    try {
      wanted.add(findScenario(id));
    } catch (error) {
      if (error instanceof UnknownScenario) throw new UsageError(error.message);
      throw error;
    }
  }
  return SCENARIOS.filter((scenario) => wanted.has(scenario));
}

/** A TCP port from an option value: an integer 0–65535 (0: any free port). */
export function parsePort(text: string, option: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${option} must be a port number (0–65535), not ${JSON.stringify(text)}`);
  return port;
}

/** A positive number of seconds from an option value. */
export function parseSeconds(text: string, option: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds <= 0)
    throw new UsageError(`${option} must be a positive number of seconds, not ${JSON.stringify(text)}`);
  return seconds;
}

/** A positive integer from an option value. */
export function parseCount(text: string, option: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1) throw new UsageError(`${option} must be a positive integer, not ${JSON.stringify(text)}`);
  return count;
}

/**
 * Read a PEM file given on the command line; `what` names it in the error ("CA file"). A file that cannot be read,
 * or that holds no PEM block of the wanted kind, is a usage error.
 */
export async function readPem(path: string, what: string, label = 'CERTIFICATE'): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${what} ${path}: ${e.code ?? e.message}`);
  }
  const kinds = label === 'PRIVATE KEY' ? '[A-Z0-9 ]*PRIVATE KEY' : label;
  if (!new RegExp(`-----BEGIN ${kinds}-----`).test(text)) throw new UsageError(`${what} ${path} holds no PEM "${label}" block`);
  return text;
}

/** A stop request: SIGINT or SIGTERM, the parent process exiting, a reader closing the output, or an AbortSignal (tests). */
export interface StopWatch {
  /** Resolves with what asked for the stop (`SIGINT`, `SIGTERM`, `parent exited`, `output closed` or `abort`). */
  stopped: Promise<string>;
  /** Remove the handlers again (a second Ctrl-C then kills the process as usual). Safe to call twice. */
  dispose(): void;
}

/**
 * Watch for a stop request. With `signal`, only the signal counts and the process's own handlers are left alone
 * (an in-process run in a test); without it, SIGINT and SIGTERM are caught, the output watched and (unless
 * `watchParentProcess` is false) the parent process, until `dispose()`.
 */
export function watchForStop(signal?: AbortSignal, { watchParentProcess = true }: { watchParentProcess?: boolean } = {}): StopWatch {
  let resolveStopped: (name: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (resolveStopped = resolve));
  const onInt = () => resolveStopped('SIGINT');
  const onTerm = () => resolveStopped('SIGTERM');
  const onAbort = () => resolveStopped('abort');
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  } else {
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  }
  const onOutputClosed = () => resolveStopped('output closed');
  if (!signal) {
    if (outputClosed.signal.aborted) onOutputClosed();
    else outputClosed.signal.addEventListener('abort', onOutputClosed, { once: true });
  }
  const orphaned = signal || !watchParentProcess ? undefined : watchParent(() => resolveStopped('parent exited'));
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      outputClosed.signal.removeEventListener('abort', onOutputClosed);
      clearInterval(orphaned);
    },
  };
}

const PARENT_POLL_MS = 500;

/**
 * Call `onExit` once the process that started this one is gone. A background server must not outlive what started
 * it: `npx tls-harness serve &` then `kill $!` signals npx, whose shell does not pass SIGTERM on, and the server
 * would keep its ports and temp dir with init as its parent. Node has no parent-death signal, so poll the parent's
 * pid, which changes when the process is re-parented (to 1, or to a subreaper). The timer is unref'd: it never keeps
 * the process alive by itself.
 */
function watchParent(onExit: () => void): NodeJS.Timeout {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, PARENT_POLL_MS);
  return timer.unref();
}

/** Lay out rows as columns separated by two spaces; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
