import type { SecureVersion } from 'node:tls';
import { startEndpoint, type Endpoint } from '../endpoint.ts';
import type { Outcome, ProbeName } from '../outcome.ts';
import { PROBE_NAMES } from '../probes/index.ts';
import type { Scenario } from '../scenario.ts';
import { scenarioMaterial } from '../endpoint.ts';

export const OBSERVED_VERSIONS: readonly SecureVersion[] = ['TLSv1.3', 'TLSv1.2'];

/** One probe's outcome reduced to what is stable from run to run: no ports, no thread ids, no source lines. */
export interface Observation {
  probe: ProbeName;
  /** The TLS version the client was pinned to, or `scenario` when the scenario sets the client's versions itself. */
  version: SecureVersion | 'scenario';
  /** `ok`, or the failure as `CODE: message` (fetch: `TypeError fetch failed ← CODE: message`). */
  result: string;
}

export interface ScenarioObservations {
  id: string;
  /** The scenario as declared. Empty when the server could not even start (see `startError`). */
  broken: Observation[];
  fixed: Observation[];
  /** For server-configuration scenarios: the error thrown while starting the server. */
  startError?: string;
}

/**
 * Strip what varies between runs and builds — an OpenSSL error line's thread id prefix and source file and line,
 * fingerprints of this run's certificates — and keep what the error means: packed code, library, function, reason,
 * and the alert number.
 */
export function normalizeMessage(message: string): string {
  return stripOpenSslLocation(message).replace(FINGERPRINT, '<fingerprint>');
}

/** A colon-separated SHA-1/SHA-256 fingerprint: it names a certificate minted for this run only. */
const FINGERPRINT = /\b(?:[0-9A-F]{2}:){19,31}[0-9A-F]{2}\b/g;

function stripOpenSslLocation(message: string): string {
  return message.replace(
    /(?:^|(?<=\s))[0-9A-F]+:error:([0-9A-F]{8}):([^:]+):([^:]+):([^:\n]+):[^\n]*?(?::SSL alert number (\d+))?\n?$/,
    (_match, code: string, lib: string, func: string, reason: string, alert: string | undefined) =>
      `error:${code}:${lib}:${func}:${reason}${alert ? ` (SSL alert number ${alert})` : ''}`,
  );
}

export function describeOutcome(outcome: Outcome): string {
  if (outcome.ok) return `ok (HTTP ${outcome.status})`;
  const own = `${outcome.code ?? outcome.errorName}: ${normalizeMessage(outcome.message ?? '')}`;
  const phase = outcome.phase === 'after-secureConnect' ? ' [after secureConnect]' : '';
  if (outcome.probe === 'fetch' && outcome.cause) {
    return `${outcome.errorName} ${outcome.message} ← ${outcome.cause.code ?? outcome.cause.name}: ${normalizeMessage(outcome.cause.message)}`;
  }
  return own + phase;
}

async function observeEndpoint(endpoint: Endpoint): Promise<Observation[]> {
  const own = endpoint.clientOptions();
  const versions: Array<SecureVersion | 'scenario'> =
    own.minVersion || own.maxVersion ? ['scenario'] : [...OBSERVED_VERSIONS];
  const observations: Observation[] = [];
  for (const version of versions) {
    for (const probe of PROBE_NAMES) {
      const pin = version === 'scenario' ? {} : { minVersion: version, maxVersion: version };
      observations.push({ probe, version, result: describeOutcome(await endpoint.probe(probe, pin)) });
    }
  }
  return observations;
}

async function observeVariant(scenario: Scenario, fixed: boolean): Promise<Observation[] | { startError: string }> {
  let endpoint: Endpoint;
  try {
    endpoint = await startEndpoint(scenario, { fixed });
  } catch (error) {
    const e = error as Error & { code?: string };
    return { startError: `${e.code ?? e.name}: ${normalizeMessage(e.message)}` };
  }
  try {
    return await observeEndpoint(endpoint);
  } finally {
    await endpoint.close();
  }
}

/** Run every Node probe against the scenario as declared and with its fix applied. */
export async function observeScenario(scenario: Scenario): Promise<ScenarioObservations> {
  const material = await scenarioMaterial(scenario);
  const broken = await observeVariant(scenario, false);
  const fixed = material.fixed ? await observeVariant(scenario, true) : [];
  return {
    id: scenario.id,
    broken: Array.isArray(broken) ? broken : [],
    fixed: Array.isArray(fixed) ? fixed : [],
    ...(Array.isArray(broken) ? {} : broken),
  };
}
