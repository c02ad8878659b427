import { X509Certificate } from 'node:crypto';
import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import {
  EXTERNAL_PROBES,
  EXTERNAL_PROBE_NAMES,
  RUNNING,
  clientNeeds,
  externalClient,
  resolve,
  startEndpoint,
  type Endpoint,
  type ExternalClient,
  type ExternalOutcome,
  type ExternalProbeName,
  type Scenario,
  type ScenarioMaterial,
} from '../../harness/index.ts';
import { OK, perVersion, type Branch } from '../../harness/expect.ts';
import {
  TOOL_KEYS,
  observed,
  toolTitle,
  wanted,
  type Cell,
  type Counterpart,
  type Failure,
  type ToolResult,
  type ToolRow,
  type Variant,
} from '../../harness/expect-tools.ts';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../../harness/probes/options.ts';
import { firstLack } from '../../harness/features.ts';
import { SERVER_SOFTWARE, clientOf, itNeeds, recipeOf } from './runner.ts';

/**
 * The tests of the external clients: every scenario's `tools` row, probed against the scenario's endpoint (and its
 * fix) with each tool. All probes run in one `before` (probeAll): every endpoint started at once, each tool over all
 * of its cases (curl: one process per batch of transfers; s_client: 4 processes at a time; Python: one interpreter,
 * 4 threads).
 */

/** One probe of one tool the tests need. */
export interface ExternalCase {
  scenario: Scenario;
  variant: Variant;
  tool: ExternalProbeName;
  /** The pinned version, or undefined for the tool's default (or the scenario's own versions). */
  version: SecureVersion | undefined;
  counterpart: Counterpart | undefined;
  /** Client settings on top of the scenario's (e.g. Python through urllib). */
  extra: Partial<ExternalClient>;
  /** Filled in by the `before` hook. */
  outcome?: ExternalOutcome;
  /** Why this case cannot be graded (the endpoint did not start, a per-version cell for a client that pins versions). */
  problem?: string;
}

/** The cell of a tool for the scenario as declared, or with its fix applied (default: success, per version where the broken one is). */
function cellOf(row: ToolRow, tool: ExternalProbeName, variant: Variant): Cell | undefined {
  const key = TOOL_KEYS[tool];
  const broken = row[key] as Cell | undefined;
  if (variant === 'broken') return broken;
  const fixed = row.fixed?.[key] as Cell | undefined;
  if (fixed !== undefined) return fixed;
  return typeof broken === 'object' && broken.kind === 'per-version' ? perVersion(OK, OK) : OK;
}

/** The probes a cell asks for: one with the tool's default version, or one per pinned version. */
function probesOf(cell: Cell): Array<SecureVersion | undefined> {
  return typeof cell === 'object' && cell.kind === 'per-version' ? ['TLSv1.3', 'TLSv1.2'] : [undefined];
}

/**
 * Define the tests for one scenario, variant and tool: pending where the tool lacks what the scenario's client needs
 * (and names no counterpart) or the cell is pending, an `it` per probe otherwise. Returns the cases, which the caller
 * probes in its `before` hook (probeAll).
 */
export function itProbes(
  scenario: Scenario,
  material: ScenarioMaterial,
  variant: Variant,
  tool: ExternalProbeName,
  options: { as?: string; cell?: Cell | undefined; client?: Partial<ExternalClient> } = {},
): ExternalCase[] {
  const name = options.as ?? tool;
  const row = scenario.tools;
  const fixed = variant === 'fixed';
  const client = clientOf(material, fixed);
  const counterpart = row.counterparts?.[TOOL_KEYS[tool]];
  const needs = clientNeeds(client, recipeOf(material, fixed))
    .map((n) => n.feature)
    .filter((f) => !counterpart?.replaces.includes(f));
  const lack = firstLack(EXTERNAL_PROBES[tool].lacks, needs, undefined);
  if (lack !== undefined) {
    it(`${name}: pending — ${lack}`);
    return [];
  }
  const cell = 'cell' in options ? options.cell : cellOf(row, tool, variant);
  if (cell === undefined) {
    it(`has an expectation for ${tool}`, () => {
      throw new Error(
        `add ${TOOL_KEYS[tool]} to the tools row of ${scenario.id}: what ${tool} prints against it (npx tsx scripts/external-observe.ts ${scenario.id})`,
      );
    });
    return [];
  }
  const clientCommonName = client.cert === undefined ? undefined : commonName(client.cert);
  const status = EXTERNAL_PROBES[tool].status();
  const cases: ExternalCase[] = [];
  for (const version of probesOf(cell)) {
    const expected = resolve<ToolResult>(cell as Branch<ToolResult>, {
      runtime: RUNNING,
      server: SERVER_SOFTWARE,
      ...(version ? { version } : {}),
    });
    if (expected.kind === 'pending') {
      it(`${name}${version ? ` over ${version}` : ''}: pending — ${expected.reason}`);
      continue;
    }
    const probeCase: ExternalCase = { scenario, variant, tool, version, counterpart, extra: options.client ?? {} };
    cases.push(probeCase);
    const says = counterpart ? ` (${counterpart.says})` : '';
    itNeeds(status.available ? undefined : status.reason, `${toolTitle(name, expected, version, clientCommonName)}${says}`, () => {
      if (probeCase.problem) throw new Error(probeCase.problem);
      if (!probeCase.outcome) throw new Error(`no outcome: ${tool} was not run for ${scenario.id} (${variant})`);
      const context = { scenarioId: scenario.id, version, clientCommonName };
      expect(observed(probeCase.outcome, expected as Failure), JSON.stringify(probeCase.outcome)).to.deep.equal(
        wanted(expected as Failure, context),
      );
    });
  }
  return cases;
}

/** The subject CN of a PEM certificate (what the harness server reports as `client=`). */
function commonName(certPem: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(certPem).subject)?.[1];
}

/**
 * Start every endpoint the cases need, build each case's client, run each installed tool over all of its cases at
 * once (bounded concurrency; one process per batch where the tool allows), and store the outcomes on the cases.
 * The endpoints go into `endpoints`, owned by the caller, which closes them (closeAll) also when this never returns.
 */
export async function probeAll(cases: ExternalCase[], endpoints: Map<string, Promise<Endpoint>>, concurrency = 4): Promise<void> {
  const endpointFor = (probeCase: ExternalCase) => {
    const key = `${probeCase.scenario.id}:${probeCase.variant}`;
    let endpoint = endpoints.get(key);
    if (!endpoint) {
      endpoint = startEndpoint(probeCase.scenario, { fixed: probeCase.variant === 'fixed' });
      endpoint.catch(() => undefined); // reported by the case's tests (problem)
      endpoints.set(key, endpoint);
    }
    return endpoint;
  };
  const clients = await Promise.all(
    cases.map(async (probeCase) => {
      let endpoint: Endpoint;
      try {
        endpoint = await endpointFor(probeCase);
      } catch (error) {
        // One server that does not start fails its own tests, not the whole file.
        probeCase.problem = `the ${probeCase.variant} endpoint of ${probeCase.scenario.id} did not start: ${(error as Error).message}`;
        return undefined;
      }
      return clientFor(probeCase, endpoint);
    }),
  );
  await Promise.all(
    EXTERNAL_PROBE_NAMES.filter((tool) => EXTERNAL_PROBES[tool].status().available).map(async (tool) => {
      const runnable = cases.flatMap((probeCase, index) => {
        const client = clients[index];
        return probeCase.tool === tool && client ? [{ probeCase, client }] : [];
      });
      const outcomes = await EXTERNAL_PROBES[tool].probeMany(
        runnable.map((r) => r.client),
        concurrency,
      );
      runnable.forEach((r, index) => (r.probeCase.outcome = outcomes[index]));
    }),
  );
}

/** Close every endpoint probeAll started, once each has finished starting. */
export async function closeAll(endpoints: Map<string, Promise<Endpoint>>): Promise<void> {
  await Promise.all([...endpoints.values()].map(async (endpoint) => (await endpoint.catch(() => undefined))?.close()));
}

/** The external client for one case, or undefined (with `problem` set) when the tool cannot reproduce it. */
async function clientFor(probeCase: ExternalCase, endpoint: Endpoint): Promise<ExternalClient | undefined> {
  const { counterpart, tool, version } = probeCase;
  const own = endpoint.clientOptions();
  if (version && (own.minVersion || own.maxVersion)) {
    probeCase.problem = `${probeCase.scenario.id} sets the client's TLS versions itself: its ${tool} cell cannot be per version`;
    return undefined;
  }
  const pin = version ? { minVersion: version, maxVersion: version } : {};
  const extra = {
    // A scenario's short bound (its client's timeoutMs) is for waiting on its broken server. The fixed server answers,
    // and an external client's bound includes starting its process: the fix gets the default bound.
    ...(probeCase.variant === 'fixed' && (own.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS) < DEFAULT_PROBE_TIMEOUT_MS
      ? { timeoutMs: DEFAULT_PROBE_TIMEOUT_MS }
      : {}),
    ...(counterpart ? await counterpart.client(probeCase.variant) : {}),
    ...probeCase.extra,
  };
  const client = externalClient(endpoint, pin, extra);
  const unsupported = EXTERNAL_PROBES[tool].unsupported(client);
  if (unsupported) {
    probeCase.problem = `${tool} cannot reproduce ${probeCase.scenario.id}: ${unsupported}`;
    return undefined;
  }
  return client;
}
