import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from '../scenario.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { table } from './args.ts';
import { UsageError } from './errors.ts';
import type { Io } from './io.ts';
import { lineDifferences, resolveScenario } from '../catalog/evaluate.ts';
import { NODE_LINES, RUNNING, lineName } from '../facts.ts';
import { exportLimbo } from '../limbo/export.ts';

export const CATALOG_HELP = `Usage: tls-harness catalog [--json] [--family NAME] [--versions] [--limbo]

List every scenario: family, id, title and what a strict client must do (accept / reject).

Options:
  --json          one JSON object: { node, openssl, scenarios: [{ id, family, title, cause, fix, expect, cases, tools,
                  startup? }] } — each scenario's expected outcome for every Node client, case by case, per TLS
                  version, and for curl, openssl s_client and Python, resolved for this Node (what the specs assert)
  --family NAME   only this family (${FAMILIES.join(', ')})
  --versions      the outcomes that differ between the documented Node lines (${NODE_LINES.map((line) => line.node).join(', ')})
  --limbo         the scenarios that are pure path-validation questions (the server only presents a chain; the
                  client only trusts given CAs, names the server, checks CRLs) as an x509-limbo suite
                  { version: 1, testcases } — ids tls-harness::<family>::<id>, PEMs and the leaf's key from this
                  run's PKI, expected_result from the verdict (accept: SUCCESS). Run it with tls-harness limbo
  -h, --help      show this help
`;

export async function catalogCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      family: { type: 'string' },
      versions: { type: 'boolean' },
      limbo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.out(CATALOG_HELP);
    return 0;
  }
  if (values.family !== undefined && !FAMILIES.includes(values.family as Family)) {
    throw new UsageError(`unknown family: ${values.family} (one of: ${FAMILIES.join(', ')})`);
  }
  const scenarios = SCENARIOS.filter((s) => values.family === undefined || s.family === values.family);
  const formats = (['json', 'versions', 'limbo'] as const).filter((format) => values[format] === true);
  if (formats.length > 1) throw new UsageError(`choose one of --${formats.join(', --')}`);
  if (values.limbo) {
    io.out(`${JSON.stringify(await exportLimbo(scenarios), null, 2)}\n`);
    return 0;
  }
  if (values.versions) {
    const differences = lineDifferences(scenarios);
    for (const d of differences) {
      io.out(`${d.scenario}${d.case === null ? '' : ` (${d.case})`} ${d.probe} ${d.version}:\n`);
      for (const [line, outcome] of Object.entries(d.lines)) io.out(`    ${line}: ${outcome}\n`);
    }
    io.out(`${differences.length} outcomes differ across ${NODE_LINES.map(lineName).join(', ')}\n`);
    return 0;
  }
  if (values.json) {
    const rows = scenarios.map((scenario) => {
      const { id, family, title, cause, fix, expect } = scenario;
      const { cases, tools, startup } = resolveScenario(scenario, RUNNING);
      return { id, family, title, cause, fix, expect, cases, tools, ...(startup ? { startup } : {}) };
    });
    io.out(`${JSON.stringify({ node: process.version, openssl: process.versions.openssl, scenarios: rows }, null, 2)}\n`);
    return 0;
  }
  io.out(
    table(
      ['FAMILY', 'ID', 'STRICT CLIENT', 'TITLE'],
      scenarios.map((s) => [s.family, s.id, s.expect, s.title]),
    ),
  );
  const failures = scenarios.filter((s) => s.expect === 'reject').length;
  io.out(`\n${scenarios.length} scenarios (${failures} a strict client must reject)\n`);
  return 0;
}
