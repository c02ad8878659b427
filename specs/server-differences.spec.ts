import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import {
  PROBE_NAMES,
  RUNNING,
  SCENARIOS,
  SERVER_BACKENDS,
  SERVER_BACKEND_NAMES,
  ServerStartError,
  containerClockDiffers,
  resolve,
  startEndpoint,
  type NodeCase,
  type Scenario,
  type ServerBackendName,
  type ServerSoftware,
  type Startup,
} from '../harness/index.ts';
import { probeTitle, summary, type NodeExpect } from '../harness/expect.ts';
import {
  TLS_VERSIONS,
  caseClient,
  expectFailure,
  expectResult,
  itUnless,
  loadMaterials,
  materialOf,
  only,
  useEndpoint,
} from './support/runner.ts';

/**
 * The scenarios whose declarations say that server programs differ — node (in-process), openssl s_server and nginx
 * (child processes), and nginx again in a container (testcontainers) — served by every backend at once, and what each
 * client sees of each, side by side. Everywhere else the catalog reads the same whichever backend serves it
 * (`TLS_HARNESS_SERVER=openssl npm test`). The container column is nginx's: the same program must give the same
 * answers, wherever it runs. A backend whose program is not installed (or, for the container, no Docker daemon) is
 * pending with that reason (with TLS_HARNESS_REQUIRE_TOOLS=1, as in CI, a failure instead).
 */

await loadMaterials();
const required = process.env.TLS_HARNESS_REQUIRE_TOOLS === '1';
const unavailable = new Map(
  await Promise.all(SERVER_BACKEND_NAMES.map(async (name) => [name, await SERVER_BACKENDS[name].unavailable?.()] as const)),
);

/** Why a backend's tests cannot run here, or undefined; fails the test when tools are required. */
function notHere(backend: ServerBackendName): string | undefined {
  return unavailable.get(backend) ?? (backend === 'container' ? containerClockDiffers() : undefined);
}

function differs(expectation: unknown): boolean {
  if (typeof expectation !== 'object' || expectation === null) return false;
  if ((expectation as { kind?: unknown }).kind === 'per-server') return true;
  return Object.values(expectation).some(differs);
}

function itOnBackend(backend: ServerBackendName, pending: string | undefined, title: string, test: () => Promise<void>): void {
  const reason = pending ?? notHere(backend);
  if (reason !== undefined && required && unavailable.get(backend) !== undefined) {
    it(`${backend}: ${title}`, () => {
      throw new Error(`${reason}, and TLS_HARNESS_REQUIRE_TOOLS=1`);
    });
    return;
  }
  itUnless(reason, `${backend}: ${title}`, test);
}

/** A case whose expectation differs by server: every backend's endpoint, every probe, side by side. */
function sideBySide(scenario: Scenario, c: NodeCase, version: SecureVersion): void {
  const body = () => {
    for (const backend of SERVER_BACKEND_NAMES) {
      const endpoint = notHere(backend)
        ? undefined
        : useEndpoint(scenario.id, { fixed: c.fixed ?? false, backend: SERVER_BACKENDS[backend] });
      for (const probe of c.probes ?? PROBE_NAMES) {
        const result = resolve(c.expect as NodeExpect, { runtime: RUNNING, server: SERVER_BACKENDS[backend].software, version, probe });
        itOnBackend(backend, endpoint?.pending, probeTitle(probe, result, version), async () => {
          if (!endpoint) throw new Error(`no ${backend} endpoint`);
          const outcome = await endpoint().probe(probe, { ...only(version), ...caseClient(c, materialOf(scenario.id)) });
          expectResult(outcome, result, endpoint(), version);
        });
      }
    }
  };
  if (c.title === undefined) body();
  else describe(c.title, body);
}

describe('server differences: the same scenario on every server backend, side by side', () => {
  for (const scenario of SCENARIOS.filter((s) => s.node.some((c) => differs(c.expect)))) {
    describe(`${scenario.id}: ${scenario.title}`, () => {
      for (const version of TLS_VERSIONS) {
        describe(`over ${version}`, () => {
          for (const c of scenario.node.filter((c) => differs(c.expect))) sideBySide(scenario, c, version);
        });
      }
    });
  }
});

/** A server's own words, each line without what varies between runs: dates, process or thread ids, temp paths, source locations. */
function normalizedOutput(output: string): string[] {
  return output
    .split('\n')
    .map((line) =>
      line
        .replace(/\/[^\s"]*\/tls-harness-[^/\s"]+/g, '<dir>')
        .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: /, '$1 ')
        .replace(/^[0-9A-F]+:(error:[0-9A-F]{8}:[^:]*:[^:]*:[^:]*):[^:]*:\d+:(.*)$/, (_, text: string, data: string) =>
          data ? `${text}:${data}` : text,
        ),
    )
    .filter((line) => line.trim() !== '' && !/^\[notice\]/.test(line));
}

function describeStart(seen: Startup, server: ServerSoftware): string {
  if (seen.kind === 'throws') return `https.createServer throws ${seen.code}`;
  if (seen.kind === 'exits') return `exits at start-up: ${seen.output.join(' / ')}`;
  return `starts, and tls.connect fails with ${summary(resolve(seen.failure, { runtime: RUNNING, server, version: 'TLSv1.3', probe: 'tls.connect' }), 'tls.connect')}`;
}

describe('server differences: a server configured with key material it cannot use, on every backend', () => {
  for (const scenario of SCENARIOS.filter((s) => s.startup)) {
    describe(`${scenario.id}: ${scenario.title}`, () => {
      for (const backend of SERVER_BACKEND_NAMES) {
        const software = SERVER_BACKENDS[backend].software;
        const seen = scenario.startup?.[software] as Startup;
        itOnBackend(backend, undefined, describeStart(seen, software), async () => {
          const started = await startEndpoint(scenario, { backend: SERVER_BACKENDS[backend] }).then(
            (endpoint) => ({ endpoint }),
            (error: unknown) => ({ error }),
          );
          if ('endpoint' in started) {
            try {
              expect(seen.kind, `${backend} started`).to.equal('serves');
              if (seen.kind !== 'serves') return;
              const failure = resolve(seen.failure, {
                runtime: RUNNING,
                server: software,
                version: 'TLSv1.3',
                probe: 'tls.connect',
              });
              if (failure.kind !== 'fails')
                throw new Error('a server that serves what it should not is declared with the failure it causes');
              expectFailure(await started.endpoint.probe('tls.connect', only('TLSv1.3')), failure);
            } finally {
              await started.endpoint.close();
            }
            return;
          }
          const { error } = started;
          if (seen.kind === 'serves') expect.fail(`${backend} did not start, but its declaration says it serves: ${String(error)}`);
          if (seen.kind === 'throws') {
            const { code, message } = error as Error & { code?: string };
            expect({ code, message }).to.deep.equal({ code: seen.code, message: seen.message });
          } else {
            expect(error, String(error)).to.be.instanceOf(ServerStartError);
            const { exitCode, output } = error as ServerStartError;
            expect({ exitCode, output: normalizedOutput(output) }).to.deep.equal({
              // testcontainers removes a container that failed to start, and its exit status with it.
              exitCode: backend === 'container' ? undefined : 1,
              output: seen.kind === 'exits' ? seen.output : [],
            });
          }
        });
      }
    });
  }
});
