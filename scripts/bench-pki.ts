// npm run bench:pki — how long the whole PKI takes to build cold: every named recipe and every scenario's material.
import { buildAll } from '../certs/index.ts';
import { SCENARIOS, scenarioMaterial } from '../harness/index.ts';

const started = performance.now();
await buildAll();
const recipes = performance.now();
await Promise.all(SCENARIOS.map((scenario) => scenarioMaterial(scenario)));
const done = performance.now();
console.log(
  `PKI cold: named recipes ${(recipes - started).toFixed(0)} ms, all ${SCENARIOS.length} scenarios ` +
    `${(done - started).toFixed(0)} ms in total (node ${process.version}, OpenSSL ${process.versions.openssl})`,
);
