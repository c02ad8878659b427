import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HOST, scenarioMaterial, startEndpoint, type Endpoint } from '../endpoint.ts';
import { normalizeMessage } from '../outcome.ts';
import type { ClientSetup, Scenario, ScenarioMaterial } from '../scenario.ts';

/** The PEM files a client of one endpoint needs, by role; absent where the scenario has none. */
export interface ClientFiles {
  /** The CAs to trust (`--cacert`, `cafile=`, `ca:`). Absent: the scenario's client uses the system's default store. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  /** The CRLs the scenario's client checks the chain against. */
  crl?: string;
}

/** One scenario as served: its running endpoint, or why its server could not start. */
export interface Served {
  scenario: Scenario;
  /** The scenario's server and client as declared (not the fix). */
  material: ScenarioMaterial;
  client: ClientSetup;
  endpoint?: Endpoint;
  /** Server-configuration scenarios: the error thrown while starting the server (there is nothing to connect to). */
  startError?: string;
  files: ClientFiles;
}

/** Running endpoints for many scenarios, and the directory holding their clients' PEM files. */
export interface Fleet {
  served: Served[];
  /** Where the PEM files are. */
  dir: string;
  /** Close every endpoint; remove the directory unless it was given (`keep`). Safe to call twice. */
  close(): Promise<void>;
}

export interface FleetOptions {
  /** Write the PEM files here (created if missing, kept on close). Default: a private temp dir, removed on close. */
  dir?: string;
}

/**
 * Start every scenario's endpoint on 127.0.0.1 (concurrently) and write its client's PEM files as
 * `<id>.ca.pem`, `<id>.client-cert.pem`, `<id>.client-key.pem`, `<id>.crl.pem`. A scenario whose server cannot
 * start is kept, with `startError`. If anything else fails, whatever was started is closed before the error is thrown.
 */
export async function startFleet(scenarios: readonly Scenario[], options: FleetOptions = {}): Promise<Fleet> {
  const keep = options.dir !== undefined;
  const dir = keep ? resolve(options.dir as string) : await mkdtemp(join(tmpdir(), 'tls-harness-')); // mkdtemp: 0700
  if (keep) await mkdir(dir, { recursive: true, mode: 0o700 });
  const settled = await Promise.allSettled(scenarios.map((scenario) => serve(scenario, dir)));
  const served = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(served.map((s) => s.endpoint?.close()));
    if (!keep) await rm(dir, { recursive: true, force: true });
  };
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { served, dir, close };
}

async function serve(scenario: Scenario, dir: string): Promise<Served> {
  const material = await scenarioMaterial(scenario);
  const client = material.client;
  const files = await writeClientFiles(scenario.id, client, dir);
  try {
    return { scenario, material, client, endpoint: await startEndpoint(scenario), files };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    const code = typeof e.code === 'string' ? e.code : e.name;
    return { scenario, material, client, startError: `${code}: ${normalizeMessage(e.message)}`, files };
  }
}

export async function writeClientFiles(id: string, client: ClientSetup, dir: string): Promise<ClientFiles> {
  const pems: Array<[keyof ClientFiles, string, string | undefined]> = [
    ['ca', 'ca', client.ca && client.ca.length > 0 ? client.ca.join('') : undefined],
    ['clientCert', 'client-cert', client.cert],
    ['clientKey', 'client-key', client.key],
    ['crl', 'crl', client.crl && client.crl.length > 0 ? client.crl.join('') : undefined],
  ];
  const files: ClientFiles = {};
  for (const [role, suffix, pem] of pems) {
    if (pem === undefined) continue;
    const path = join(dir, `${id}.${suffix}.pem`);
    await writeFile(path, pem, { mode: 0o600 });
    await chmod(path, 0o600); // an existing file keeps its mode on writeFile
    files[role] = path;
  }
  return files;
}

/** The argument a client gets as the host: the name it must ask for, or the address when it connects by IP. */
export function hostArgument(endpoint: Endpoint): string {
  return endpoint.servername ?? HOST;
}
