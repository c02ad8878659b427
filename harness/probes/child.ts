import { spawn } from 'node:child_process';
import { writePemFiles } from '../../certs/pem-files.ts';
import { nodeModuleArgs } from '../node-child.ts';
import type { Outcome, ProbeName } from '../outcome.ts';
import type { ClientOptions, Target } from './options.ts';

/** One probe to run in the child process. Only JSON-serializable options cross the process boundary. */
export interface ChildProbe {
  probe: ProbeName;
  target: Target;
  options: Omit<ClientOptions, 'checkServerIdentity' | 'env'>;
}

/** The environment a child gets: strings as they are, `{ pem }` values as the path of a private file holding them. */
export type ChildEnvironment = NonNullable<ClientOptions['env']>;

const CHILD_TIMEOUT_MS = 20_000;

/**
 * Run probes in a fresh Node process (the same binary as this one) with extra environment variables.
 * For settings Node reads only at start-up, such as NODE_EXTRA_CA_CERTS. All probes share one child, because
 * starting Node costs far more than a probe.
 */
export async function probeInChild(probes: ChildProbe[], env: ChildEnvironment): Promise<Outcome[]> {
  return (await probeInChildWithStderr(probes, env)).outcomes;
}

/**
 * probeInChild, plus everything the child wrote to stderr: what Node itself prints about the environment it was
 * given, e.g. the warning for NODE_TLS_REJECT_UNAUTHORIZED=0.
 */
export async function probeInChildWithStderr(
  probes: ChildProbe[],
  env: ChildEnvironment,
): Promise<{ outcomes: Outcome[]; stderr: string }> {
  const files = await writePemFiles(
    Object.fromEntries(Object.entries(env).flatMap(([name, value]) => (typeof value === 'string' ? [] : [[`${name}.pem`, value.pem]]))),
  );
  try {
    const variables = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [name, typeof value === 'string' ? value : (files.paths[`${name}.pem`] ?? '')]),
    );
    return await runChild(probes, variables);
  } finally {
    await files.close();
  }
}

function runChild(probes: ChildProbe[], env: Record<string, string>): Promise<{ outcomes: Outcome[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeModuleArgs(import.meta.url, './child-main'), {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`probe child exited ${code ?? signal}: ${Buffer.concat(stderr).toString()}`));
        return;
      }
      resolve({ outcomes: JSON.parse(Buffer.concat(stdout).toString()) as Outcome[], stderr: Buffer.concat(stderr).toString() });
    });
    child.stdin.end(JSON.stringify(probes));
  });
}
