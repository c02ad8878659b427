import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, type CommandContext } from '../../harness/cli/main.ts';
export { findExecutable } from '../../harness/servers/child.ts';
import type { Io } from '../../harness/cli/io.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO, 'bin/tls-harness.js');

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in this process and capture what it writes. */
export async function cli(argv: string[], context: CommandContext = {}, onOut?: (text: string) => void): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (text) => {
      out += text;
      onOut?.(text);
    },
    err: (text) => void (err += text),
  };
  const code = await main(argv, io, context);
  return { code, out, err };
}

/** A child process of the bin, with its output collected, that is killed (with its group) by `stop()`. */
export interface BinProcess {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`; rejects after `timeoutMs` or if the process exits first. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code and the time it took after `signal` was sent. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kill whatever is left (after a failed spec). Safe to call twice. */
  stop(): void;
  /**
   * Stop it the way a user would, so that it cleans up after itself (a run filtered by --grep, or a failed spec,
   * must not leave its temp dirs behind): SIGTERM, then after `graceMs` SIGKILL to the whole group.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Start `node bin/tls-harness.js …args` in a process group of its own. */
export function startBin(args: string[]): BinProcess {
  return startCommand(process.execPath, [BIN, ...args], REPO);
}

/** Start `command …args` in `cwd` (with `env`, default this process's), in a process group of its own. */
export function startCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): BinProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd, env });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const watcher of watchers) watcher();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const stop = () => {
    try {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  const shutdown = async (graceMs = 5000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(stop, graceMs);
      await exited;
      clearTimeout(timer);
    }
    stop(); // whatever else is left in its group
  };
  return {
    child,
    shutdown,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop,
    waitFor: (text, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!stdout.includes(text)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${JSON.stringify(text)} on stdout within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        void exited.then(({ code }) => {
          if (!stdout.includes(text)) {
            done();
            reject(new Error(`exited ${code} before printing ${JSON.stringify(text)}; stderr: ${stderr}`));
          }
        });
        watchers.add(check);
        check();
      }),
    signal: async (signal) => {
      const sent = performance.now();
      child.kill(signal);
      const { code } = await exited;
      return { code, ms: performance.now() - sent };
    },
  };
}

/** Run the bin to its end (bad input), with a bound. */
export async function runBin(args: string[], timeoutMs = 20_000): Promise<CliRun> {
  const bin = startBin(args);
  const timer = setTimeout(() => bin.stop(), timeoutMs);
  const { code } = await bin.exited;
  clearTimeout(timer);
  return { code: code ?? -1, out: bin.stdout(), err: bin.stderr() };
}

/** The harness's temp dirs (tls-harness-*) that exist right now: a command must leave none behind. */
export function harnessTempDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('tls-harness-'));
}

/** Open listening sockets, connections, child processes and timers of this process, by kind. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (['TCPServerWrap', 'TCPSocketWrap', 'TCPWrap', 'ProcessWrap', 'PipeWrap'].includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Resolve once this process has no more listening sockets, connections and child processes than `before` (handles
 * close asynchronously, a loop turn after close()); reject after 500 ms with what is still open.
 */
export async function expectNothingLeft(before: Record<string, number>, tempsBefore: string[]): Promise<void> {
  const started = Date.now();
  for (;;) {
    const now = activeResources();
    const temps = harnessTempDirs();
    const extra = Object.entries(now).filter(([kind, count]) => count > (before[kind] ?? 0));
    const newTemps = temps.filter((t) => !tempsBefore.includes(t));
    if (extra.length === 0 && newTemps.length === 0) return;
    if (Date.now() - started > 500)
      throw new Error(`still open: ${JSON.stringify(Object.fromEntries(extra))}, temp dirs: ${newTemps.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Within the enclosing describe, drop Node's "SecurityWarning: DH parameter is less than 2048 bits": the fleets these
 * specs start serve dhe-1024 (1024-bit DH on purpose) again and again. Every other warning still prints.
 */
export function muteWeakDhWarnings(): void {
  let printers: Array<(warning: Error) => void> = [];
  const filter = (warning: Error) => {
    if (warning.name === 'SecurityWarning' && warning.message.startsWith('DH parameter is less than')) return;
    for (const print of printers) print.call(process, warning);
  };
  before(() => {
    printers = process.listeners('warning');
    process.removeAllListeners('warning');
    process.on('warning', filter);
  });
  after(() => {
    process.removeListener('warning', filter);
    for (const print of printers) process.on('warning', print);
  });
}
