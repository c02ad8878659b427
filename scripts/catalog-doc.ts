// npm run catalog:doc           observe the catalog on this Node, write docs/observations/node<major>.json, render docs/CATALOG.md
// npm run catalog:doc -- --check observe and render in memory; exit 1 if the committed files are stale
// npm run catalog:doc -- --render  only re-render docs/CATALOG.md from the committed observations
// npm run catalog:doc -- --observe-only  only write docs/observations/node<major>.json (the matrix runs this per Node)
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from '../harness/index.ts';
import { observeScenario } from '../harness/catalog/observe.ts';
import { readAllObservations, serialize, writeObservations, nodeMajor, type RunObservations } from '../harness/catalog/observations.ts';
import { renderCatalog } from '../harness/catalog/render.ts';

const CATALOG_FILE = fileURLToPath(new URL('../docs/CATALOG.md', import.meta.url));

/** Scenarios observed at once: each has its own servers, so they do not interfere; the order of results is kept. */
const CONCURRENCY = 4;

async function observeAll(): Promise<RunObservations> {
  const scenarios: Awaited<ReturnType<typeof observeScenario>>[] = new Array(SCENARIOS.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < SCENARIOS.length; index = next++) {
      scenarios[index] = await observeScenario(SCENARIOS[index] as (typeof SCENARIOS)[number]);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { node: process.version, openssl: process.versions.openssl ?? 'unknown', scenarios };
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

const { values } = parseArgs({
  options: { check: { type: 'boolean' }, render: { type: 'boolean' }, 'observe-only': { type: 'boolean' } },
});
const started = performance.now();

if (values.check) {
  const current = await observeAll();
  const major = nodeMajor(current);
  const committed = await readAllObservations();
  const stale: string[] = [];
  const committedRun = committed.find((run) => nodeMajor(run) === major);
  if (!committedRun || serialize(committedRun) !== serialize(current)) stale.push(`docs/observations/node${major}.json`);
  const runs = [...committed.filter((run) => nodeMajor(run) !== major), current].sort((a, b) => nodeMajor(a) - nodeMajor(b));
  if ((await readText(CATALOG_FILE)) !== renderCatalog(SCENARIOS, runs)) stale.push(CATALOG_FILE);
  if (stale.length > 0) {
    console.error(`stale: ${stale.join(', ')} — run \`npm run catalog:doc\` on Node ${major} and commit the result`);
    process.exit(1);
  }
  console.log(`${CATALOG_FILE} and docs/observations/node${major}.json are up to date (${(performance.now() - started).toFixed(0)} ms)`);
} else if (values['observe-only']) {
  console.log(`wrote ${await writeObservations(await observeAll())} (${(performance.now() - started).toFixed(0)} ms)`);
} else {
  if (!values.render) console.log(`wrote ${await writeObservations(await observeAll())}`);
  await writeFile(CATALOG_FILE, renderCatalog(SCENARIOS, await readAllObservations()));
  console.log(`wrote ${CATALOG_FILE} (${(performance.now() - started).toFixed(0)} ms)`);
}
