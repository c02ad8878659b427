/**
 * What curl, openssl s_client and Python's ssl module do against scenarios: the raw material for the `tools` row of
 * a scenario's declaration. For each scenario (all, or the ids given), as declared and with its fix, each
 * tool over TLS 1.3, TLS 1.2 and its default version (or the scenario's own versions), normalized as the spec
 * compares them. Where all versions agree, one line.
 *
 *   npx tsx scripts/external-observe.ts [scenario-id…]
 */
import type { SecureVersion } from 'node:tls';
import { SCENARIOS, scenarioMaterial, startEndpoint, type Endpoint } from '../harness/index.ts';
import type { ExternalOutcome } from '../harness/outcome.ts';
import { clientNeeds } from '../harness/features.ts';
import { EXTERNAL_PROBES, EXTERNAL_PROBE_NAMES, externalClient, type ExternalClient } from '../harness/probes/external/index.ts';

const ids = process.argv.slice(2);
const scenarios = SCENARIOS.filter((s) => ids.length === 0 || ids.includes(s.id));
const endpoints: Endpoint[] = [];
const cases: Array<{ label: string; version: string; client: ExternalClient }> = [];

for (const scenario of scenarios) {
  const material = await scenarioMaterial(scenario);
  for (const fixed of material.fixed ? [false, true] : [false]) {
    const label = `${scenario.id}${fixed ? ' (fixed)' : ''}`;
    let endpoint: Endpoint;
    try {
      endpoint = await startEndpoint(scenario, { fixed });
    } catch (error) {
      console.log(`## ${label}: the server does not start: ${(error as Error).message}`);
      continue;
    }
    endpoints.push(endpoint);
    const own = endpoint.clientOptions();
    const needs = clientNeeds(own).filter((need) =>
      EXTERNAL_PROBE_NAMES.some((tool) => EXTERNAL_PROBES[tool].lacks[need.feature] !== undefined),
    );
    if (needs.length > 0) console.log(`## ${label}: ${needs.map((need) => need.says).join('; ')} (a tool lacks it; probed without it)`);
    const versions: Array<SecureVersion | 'default' | 'scenario'> =
      own.minVersion || own.maxVersion ? ['scenario'] : ['TLSv1.3', 'TLSv1.2', 'default'];
    for (const version of versions) {
      const pin = version === 'default' || version === 'scenario' ? {} : { minVersion: version, maxVersion: version };
      cases.push({ label, version, client: externalClient(endpoint, pin) });
    }
  }
}

const outcomes = new Map<string, ExternalOutcome[]>();
await Promise.all(
  EXTERNAL_PROBE_NAMES.filter((tool) => EXTERNAL_PROBES[tool].status().available).map(async (tool) => {
    outcomes.set(tool, await EXTERNAL_PROBES[tool].probeMany(cases.map((c) => c.client)));
  }),
);
await Promise.all(endpoints.map((endpoint) => endpoint.close()));

function describe(outcome: ExternalOutcome): string {
  const { probe: _probe, protocol: _protocol, ...rest } = outcome;
  if (outcome.ok) return `ok HTTP ${outcome.status}${outcome.verify ? ` (Verify return code: ${outcome.verify})` : ''}`;
  return JSON.stringify(rest);
}

const labels = [...new Set(cases.map((c) => c.label))];
for (const label of labels) {
  console.log(`## ${label}`);
  for (const [tool, results] of outcomes) {
    const rows = cases.flatMap((c, index) =>
      c.label === label ? [{ version: c.version, text: describe(results[index] as ExternalOutcome) }] : [],
    );
    const same = new Set(rows.map((r) => r.text)).size === 1;
    for (const row of same ? [{ version: 'all', text: rows[0]?.text ?? '' }] : rows) {
      console.log(`  ${tool.padEnd(16)} ${row.version.padEnd(8)} ${row.text}`);
    }
  }
}
