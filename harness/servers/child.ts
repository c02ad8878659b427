import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, existsSync, readFileSync, constants as fsConstants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { PemFiles } from '../../certs/index.ts';
import { Unsupported, type RunningServer } from './backend.ts';

/**
 * Plumbing for server backends that run a real server program as a child process (openssl s_server, nginx), on a
 * port from ports.ts: a readiness signal read from the child's own output, and a close that waits for the child to
 * be gone. Every child is also killed when this process exits, so a crashed run leaves no server behind.
 */

/**
 * The absolute path of the first of `names` found: an absolute path as it is, a command on PATH or in the sbin
 * directories (nginx lives in /usr/sbin); undefined when none is executable. Synchronous, so that spec files can
 * decide at definition time whether a tool is there.
 */
export function findExecutable(...names: string[]): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter((d) => d !== '');
  for (const name of names) {
    for (const candidate of isAbsolute(name) ? [name] : directories.map((directory) => join(directory, name))) {
      try {
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not here; try the next one
      }
    }
  }
  return undefined;
}

/** A child server that exited (or could not be spawned, or stayed silent) before it was ready, with its own words. */
export class ServerStartError extends Error {
  override name = 'ServerStartError';
  constructor(
    /** e.g. `openssl s_server`, `nginx`. */
    readonly program: string,
    /** What happened: `exited (code 1) before it was ready`, `could not be started (ENOENT: …)`, … */
    readonly why: string,
    /** The exit code, when the child exited with one. */
    readonly exitCode: number | undefined,
    /** Everything the child printed (stdout and stderr interleaved, the last 16 KiB). */
    readonly output: string,
  ) {
    super(`${program} ${why}${output.trim() ? `:\n${output.trim()}` : ''}`);
  }
}

export interface ChildSpec {
  /** What to call the program in errors, e.g. `openssl s_server`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The line (stdout or stderr) that says the child is listening. */
  ready: RegExp;
  /** Upper bound for the readiness line; the child is killed and the start fails after it. */
  readyTimeoutMs?: number;
}

export interface RunningChild {
  /** The child's output so far (stdout and stderr interleaved, the last 16 KiB), for error messages. */
  output(): string;
  /** Stop the child (SIGTERM, then SIGKILL after 2 s) and wait until it has exited. Safe to call twice. */
  close(): Promise<void>;
}

const OUTPUT_LIMIT = 16 * 1024;
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

/** Start the child and resolve once it printed its readiness line; reject (the child gone) if it exits first. */
export function startChild(spec: ChildSpec): Promise<RunningChild> {
  installExitHook();
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    let exited = false;
    let pending = '';
    let failed = false;
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const exit = new Promise<void>((done) =>
      child.once('close', () => {
        exited = true;
        children.delete(child);
        done();
      }),
    );
    const close = async (): Promise<void> => {
      if (!exited) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exit;
        clearTimeout(force);
      }
    };
    const fail = (why: string, exitCode?: number) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      void close().then(() => reject(new ServerStartError(spec.name, why, exitCode, output)));
    };
    const timeoutMs = spec.readyTimeoutMs ?? 5000;
    const timer = setTimeout(() => fail(`printed no readiness line (${spec.ready}) within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-OUTPUT_LIMIT);
      if (ready) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      if (lines.some((line) => spec.ready.test(line))) {
        ready = true;
        clearTimeout(timer);
        resolve({ output: () => output, close });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) => {
      // spawn failed (ENOENT: not installed); 'close' still follows and settles `exit`.
      if (!ready) fail(`could not be started (${error.code ?? error.message}: ${spec.command})`);
    });
    child.once('exit', (code, signal) => {
      if (!ready) fail(`exited (${signal ?? `code ${code}`}) before it was ready`, code ?? undefined);
    });
  });
}

/**
 * The RunningServer of a server program started as a child: it reports no per-connection events (`noEvents` says
 * why), and closing it stops the child, then removes its files.
 */
export function childServer(port: number, child: RunningChild, files: PemFiles, noEvents: string): RunningServer {
  return {
    port,
    eventFor: () => Promise.reject(new Unsupported(noEvents)),
    close: async () => {
      await child.close();
      await files.close();
    },
  };
}

/**
 * Whether `pid` is a process that still runs. An exited process stays in the table as a zombie until its parent
 * reaps it, and `process.kill(pid, 0)` succeeds on a zombie: an orphan's parent is init, which may reap late (here,
 * up to a second later). On Linux the state in /proc tells them apart; elsewhere kill(pid, 0) is the best there is.
 */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
