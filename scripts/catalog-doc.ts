// npm run catalog:doc           observe the catalog on this Node, write docs/observations/node<major>.json; run the
//                                external-clients and server-differences specs, write docs/observations/clients-and-
//                                servers.json; render docs/CATALOG.md from all of them
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
import { SECTION_SPECS, renderSections, sectionRecords } from './catalog-sections.ts';
import { runSpecs, type SpecRecord } from './spec-records.ts';

const CATALOG_FILE = fileURLToPath(new URL('../docs/CATALOG.md', import.meta.url));
const SECTIONS_FILE = fileURLToPath(new URL('../docs/observations/clients-and-servers.json', import.meta.url));

/** What the external clients and the server backends did: the passing and pending tests of their two specs. */
interface SectionObservations {
  node: string;
  records: SpecRecord[];
}

async function observeSections(): Promise<SectionObservations> {
  return { node: process.version, records: sectionRecords(await runSpecs(SECTION_SPECS)) };
}

function serializeSections(sections: SectionObservations): string {
  return `${JSON.stringify(sections, null, 1)}\n`;
}

async function readSections(): Promise<SectionObservations> {
  const text = await readText(SECTIONS_FILE);
  if (text === undefined) throw new Error(`${SECTIONS_FILE} is missing: run \`npm run catalog:doc\``);
  return JSON.parse(text) as SectionObservations;
}

function renderPage(runs: RunObservations[], sections: SectionObservations): string {
  return `${renderCatalog(SCENARIOS, runs)}\n${renderSections(sections.records)}`;
}

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
  // The clients-and-servers sections are observed on one Node (the one `npm run catalog:doc` ran on, named in the
  // file); the matrix's check on every other Node checks only that Node's own observations.
  const committedSections = await readSections().catch(() => undefined);
  const sections =
    committedSections && nodeMajor(committedSections) !== major ? committedSections : await observeSections();
  if (sections !== committedSections && serializeSections(sections) !== (await readText(SECTIONS_FILE))) stale.push(SECTIONS_FILE);
  const runs = [...committed.filter((run) => nodeMajor(run) !== major), current].sort((a, b) => nodeMajor(a) - nodeMajor(b));
  if ((await readText(CATALOG_FILE)) !== renderPage(runs, sections)) stale.push(CATALOG_FILE);
  if (stale.length > 0) {
    console.error(`stale: ${stale.join(', ')} — run \`npm run catalog:doc\` on Node ${major} and commit the result`);
    process.exit(1);
  }
  console.log(`${CATALOG_FILE}, ${SECTIONS_FILE} and docs/observations/node${major}.json are up to date (${(performance.now() - started).toFixed(0)} ms)`);
} else if (values['observe-only']) {
  console.log(`wrote ${await writeObservations(await observeAll())} (${(performance.now() - started).toFixed(0)} ms)`);
} else {
  if (!values.render) {
    console.log(`wrote ${await writeObservations(await observeAll())}`);
    await writeFile(SECTIONS_FILE, serializeSections(await observeSections()));
    console.log(`wrote ${SECTIONS_FILE}`);
  }
  await writeFile(CATALOG_FILE, renderPage(await readAllObservations(), await readSections()));
  console.log(`wrote ${CATALOG_FILE} (${(performance.now() - started).toFixed(0)} ms)`);
}
