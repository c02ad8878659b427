import { pki } from '../certs/index.ts';
import { PROBES, type Target } from './probes/index.ts';
import { probeInChild } from './probes/child.ts';
import type { ClientOptions } from './probes/options.ts';
import type { Outcome, ProbeName } from './outcome.ts';
import type { Scenario, ScenarioMaterial } from './scenario.ts';
import { findScenario } from './scenarios/index.ts';
import type { RunningServer, ServerBackend, ServerEvent, ServerSoftware } from './servers/backend.ts';
import { nodeBackend } from './servers/node.ts';
import { once } from '../certs/memo.ts';

export const HOST = '127.0.0.1';
export const DEFAULT_SERVERNAME = 'localhost';

/** A scenario running on a backend: where it listens, what a client needs, and how to stop it. */
export interface Endpoint {
  scenario: Scenario;
  /** The name of the server backend serving it (`node`, `openssl`, `nginx`, `container`). */
  backend: string;
  /** The program that serves it: `nginx` for the container backend. */
  software: ServerSoftware;
  host: string;
  port: number;
  /** The name a client asks for (SNI and hostname check); undefined means the IP literal is used. */
  servername: string | undefined;
  url: string;
  /** PEMs a correctly configured client trusts for this endpoint (empty: Node's default store). */
  ca: string[];
  /** The client certificate and key the scenario presents by default, if any. */
  clientCertificate: { cert: string; key: string } | undefined;
  /** True when this endpoint serves the scenario with its fix applied. */
  fixed: boolean;
  /** The client options that reproduce the scenario, before any override. */
  clientOptions(): ClientOptions;
  /**
   * Run one Node probe against this endpoint with the scenario's client options plus `overrides`; a client with `env`
   * runs in a fresh Node process that has it.
   */
  probe(probe: ProbeName, overrides?: ClientOptions): Promise<Outcome>;
  /** The server's view of the connection a probe made (by the probe's `localPort`). */
  serverView(outcome: Outcome, timeoutMs?: number): Promise<ServerEvent>;
  close(): Promise<void>;
}

export interface StartOptions {
  backend?: ServerBackend;
  /** Serve the scenario with its fix applied (its `fixed` server and client). */
  fixed?: boolean;
}

const materials = new Map<string, () => Promise<ScenarioMaterial>>();

/** The scenario's certificates and settings, built once per process however many endpoints serve it. */
export function scenarioMaterial(scenario: Scenario): Promise<ScenarioMaterial> {
  let material = materials.get(scenario.id);
  if (!material) {
    material = once(() => scenario.setup(pki));
    materials.set(scenario.id, material);
  }
  return material();
}

/** Start the endpoint for scenario `id` (or a Scenario object) on 127.0.0.1, on an ephemeral port. */
export async function startEndpoint(id: string | Scenario, options: StartOptions = {}): Promise<Endpoint> {
  const scenario = typeof id === 'string' ? findScenario(id) : id;
  const material = await scenarioMaterial(scenario);
  const fixed = options.fixed ?? false;
  if (fixed && !material.fixed) throw new Error(`scenario ${scenario.id} declares no applied fix`);
  const serverRecipe = (fixed ? material.fixed?.server : undefined) ?? material.server;
  const client = (fixed ? material.fixed?.client : undefined) ?? material.client;
  const backend = options.backend ?? nodeBackend;
  const server: RunningServer = await backend.start(scenario, serverRecipe);
  const servername = 'servername' in client ? client.servername : DEFAULT_SERVERNAME;
  const target = { host: HOST, port: server.port };
  const clientOptions = (): ClientOptions => ({ ...client, ...(servername !== undefined ? { servername } : {}) });
  const clientCertificate = client.cert !== undefined && client.key !== undefined ? { cert: client.cert, key: client.key } : undefined;
  return {
    scenario,
    backend: backend.name,
    software: backend.software,
    host: HOST,
    port: server.port,
    servername,
    url: `https://${servername ?? HOST}:${server.port}/`,
    ca: client.ca ?? [],
    clientCertificate,
    fixed,
    clientOptions,
    probe: (probe, overrides = {}) => probeWith(probe, target, { ...clientOptions(), ...overrides }),
    serverView: (outcome, timeoutMs) => {
      if (outcome.localPort === undefined) throw new Error(`${outcome.probe} does not report its local port`);
      return server.eventFor(outcome.localPort, timeoutMs);
    },
    close: () => server.close(),
  };
}

/** One probe, in this process, or in a child process when the client needs an environment of its own. */
async function probeWith(probe: ProbeName, target: Target, options: ClientOptions): Promise<Outcome> {
  const { env, ...rest } = options;
  if (env === undefined) return PROBES[probe](target, rest);
  const { checkServerIdentity, ...serializable } = rest;
  if (checkServerIdentity)
    throw new Error('a client with its own environment runs in a child process: checkServerIdentity cannot go there');
  const [outcome] = await probeInChild([{ probe, target, options: serializable }], env);
  if (!outcome) throw new Error('the probe child returned no outcome');
  return outcome;
}
