// npm run bench:catalog — what the catalog costs per asserted outcome, against the floor measured in the same process.
//
// The floor: a bare TLS server (node:https, the PKI's healthy leaf and intermediate, nothing of the harness) and, per
// client kind, sequential connections that each complete one HTTPS request — tls.connect with a hand-written GET,
// https.request, and the global fetch through an undici Agent — averaged over the three kinds, as the catalog's tests
// use them in equal parts. It is measured before and after the catalog, and the lower median counts.
// The catalog: the family spec files (the declarations' tests, and what the family files add) run by mocha in this
// process, from the moment the files start defining their tests (which starts the work that runs ahead: child
// processes, servers that never answer) to mocha's end, server starts in hooks included, divided by the number of
// passing tests. Building the PKI and the scenarios' material comes before the clock starts.
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import Mocha from 'mocha';
import { pki } from '../certs/index.ts';
import { FAMILIES, SCENARIOS, scenarioMaterial } from '../harness/index.ts';
import { fetchAgentClass } from '../harness/probes/fetch.ts';

const ROUNDS = 5;
const CONNECTIONS = 100;

type Kind = 'tls.connect' | 'https.request' | 'fetch';

async function floor(): Promise<Record<Kind, number>> {
  const [leaf, intermediate, root] = [await pki.serverLeaf(), await pki.intermediateCa(), await pki.rootCa()];
  const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem }, (_request, response) => {
    response.setHeader('connection', 'close');
    response.end('ok\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const secureContext = tls.createSecureContext({ ca: root.certPem });
  const Agent = await fetchAgentClass();
  const once: Record<Kind, () => Promise<void>> = {
    'tls.connect': () =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext }, () =>
          socket.write(`GET / HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`),
        );
        socket.on('data', () => undefined);
        socket.once('error', reject);
        socket.once('close', () => resolve());
      }),
    'https.request': () =>
      new Promise((resolve, reject) => {
        const request = https.request(
          { host: '127.0.0.1', port, servername: 'localhost', ...({ secureContext } as https.RequestOptions), agent: false },
          (response) => {
            response.resume();
            response.once('end', () => resolve());
          },
        );
        request.once('error', reject);
        request.end();
      }),
    fetch: async () => {
      const dispatcher = new Agent({ connect: { secureContext, servername: 'localhost' } });
      await (await fetch(`https://127.0.0.1:${port}/`, { ...({ dispatcher } as RequestInit) })).text();
      await dispatcher.close();
    },
  };
  const perConnection = {} as Record<Kind, number>;
  for (const kind of Object.keys(once) as Kind[]) {
    const runs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      for (let i = 0; i < CONNECTIONS; i++) await once[kind]();
      runs.push((performance.now() - started) / CONNECTIONS);
    }
    perConnection[kind] = median(runs);
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return perConnection;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function catalog(): Promise<{ ms: number; passing: number; failing: number }> {
  const mocha = new Mocha({ timeout: 10_000, reporter: class extends Mocha.reporters.Base {} });
  // In the order `npm test` runs them: mocha sorts the files its glob finds.
  for (const file of FAMILIES.map((family) => `specs/${family}.spec.ts`).sort()) mocha.addFile(file);
  // The PKI and every scenario's material (memoized, as the spec files get them): built before the clock starts.
  await Promise.all(SCENARIOS.map((scenario) => scenarioMaterial(scenario).catch(() => undefined)));
  // From here: the files define their tests, which starts the work that runs ahead (child processes, silent servers).
  const started = performance.now();
  await mocha.loadFilesAsync();
  let ended = 0;
  let passing = 0;
  const failing = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on('pass', () => (passing += 1));
    runner.once('end', () => (ended = performance.now()));
  });
  mocha.dispose();
  return { ms: ended - started, passing, failing };
}

const mean = (record: Record<Kind, number>) => (record['tls.connect'] + record['https.request'] + record.fetch) / 3;
const before = await floor();
const run = await catalog();
const after = await floor();
if (run.failing > 0) {
  console.error(`bench:catalog: ${run.failing} tests failed; no figure for a catalog that does not pass`);
  process.exit(1);
}
const floorMs = Math.min(mean(before), mean(after));
const perOutcome = run.ms / run.passing;
const show = (record: Record<Kind, number>) =>
  (Object.entries(record) as Array<[Kind, number]>).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
console.log(`floor before: ${show(before)} ms per connection; after: ${show(after)}`);
console.log(`catalog: ${run.passing} asserted outcomes in ${(run.ms / 1000).toFixed(2)} s = ${perOutcome.toFixed(2)} ms each`);
console.log(
  `ratio ${(perOutcome / floorMs).toFixed(2)} (catalog ${perOutcome.toFixed(2)} ms per outcome / floor ${floorMs.toFixed(2)} ms per ` +
    `connection; node ${process.version}, OpenSSL ${process.versions.openssl})`,
);
