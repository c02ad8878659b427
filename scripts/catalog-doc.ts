// npm run catalog:doc              render docs/CATALOG.md from the scenario declarations
// npm run catalog:doc -- --check   exit 1 if the committed page is not what the declarations render
//
// The page is a pure function of the declarations (harness/scenarios/*.ts), resolved for every documented Node line
// (harness/facts.ts): it is the same on every machine, whatever tools are installed. The specs prove it, line by line.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCENARIOS, scenarioMaterial, type ScenarioMaterial } from '../harness/index.ts';
import { renderCatalog } from '../harness/catalog/render.ts';

const CATALOG_FILE = fileURLToPath(new URL('../docs/CATALOG.md', import.meta.url));

const { values } = parseArgs({ options: { check: { type: 'boolean' } } });
// The material says which tools cannot be given a scenario's client (a checkServerIdentity function…).
const materials = new Map<string, ScenarioMaterial>(
  await Promise.all(SCENARIOS.map(async (s) => [s.id, await scenarioMaterial(s)] as const)),
);
const page = renderCatalog(SCENARIOS, materials);

if (values.check) {
  const committed = await readFile(CATALOG_FILE, 'utf8').catch(() => '');
  if (committed !== page) {
    console.error(`stale: ${CATALOG_FILE} is not what the declarations render — run \`npm run catalog:doc\` and commit the result`);
    process.exit(1);
  }
  console.log(`${CATALOG_FILE} is up to date`);
} else {
  await writeFile(CATALOG_FILE, page);
  console.log(`wrote ${CATALOG_FILE}`);
}
