// npm run bench:pki — how long the whole PKI takes to build cold: every named recipe and every scenario's material,
// all started at once (as a test run needs them), so that the RSA keys' prime search on the thread pool overlaps the
// EC work on the main thread. The named recipes alone are timed in the same run, as the moment they were all done,
// and so is the main thread's busy time (event-loop utilization), which the thread pool's prime search is not part of.
import { performance } from 'node:perf_hooks';
import { buildAll } from '../certs/index.ts';
import { SCENARIOS, scenarioMaterial } from '../harness/index.ts';

const started = performance.now();
const loopAtStart = performance.eventLoopUtilization();
let recipesDone = 0;
await Promise.all([buildAll().then(() => (recipesDone = performance.now())), ...SCENARIOS.map((scenario) => scenarioMaterial(scenario))]);
const done = performance.now();
const mainThread = performance.eventLoopUtilization(loopAtStart).active;
console.log(
  `PKI cold: named recipes done after ${(recipesDone - started).toFixed(0)} ms, all ${SCENARIOS.length} scenarios ` +
    `${(done - started).toFixed(0)} ms in total, main thread busy ${mainThread.toFixed(0)} ms ` +
    `(node ${process.version}, OpenSSL ${process.versions.openssl})`,
);
