import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from '../scenario.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { UsageError } from './errors.ts';
import type { Io } from './io.ts';
import { readAllObservations, nodeMajor } from '../catalog/observations.ts';
import { versionDifferences } from '../catalog/render.ts';

export const CATALOG_HELP = `Usage: tls-harness catalog [--json] [--family NAME] [--versions]

List every scenario: family, id, title and what a strict client must do (accept / reject).

Options:
  --json          one JSON array of { id, family, title, cause, fix, expect }
  --family NAME   only this family (${FAMILIES.join(', ')})
  --versions      where Node majors disagree, from the recorded runs in docs/observations/
  -h, --help      show this help
`;

export async function catalogCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      family: { type: 'string' },
      versions: { type: 'boolean' },
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
  if (values.versions) {
    const runs = await readAllObservations();
    const differences = versionDifferences(scenarios, runs);
    io.out(`${differences.join('\n')}${differences.length ? '\n' : ''}`);
    io.out(`${differences.length} outcomes differ across Node ${runs.map(nodeMajor).join(', ') || '(no recorded runs)'}\n`);
    return 0;
  }
  if (values.json) {
    const rows = scenarios.map(({ id, family, title, cause, fix, expect }) => ({ id, family, title, cause, fix, expect }));
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  io.out(table(['FAMILY', 'ID', 'STRICT CLIENT', 'TITLE'], scenarios.map((s) => [s.family, s.id, s.expect, s.title])));
  const failures = scenarios.filter((s) => s.expect === 'reject').length;
  io.out(`\n${scenarios.length} scenarios (${failures} a strict client must reject)\n`);
  return 0;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
