import { expect } from 'chai';
import { EXTERNAL_PROBES, EXTERNAL_PROBE_NAMES, FAMILIES, scenariosOf, startEndpoint, type Endpoint } from '../harness/index.ts';
import { MATERIALS, errorSummary, itNeeds, loadMaterials } from './support/runner.ts';
import { closeAll, itProbes, probeAll, type ExternalCase } from './support/external.ts';

/**
 * The catalog through three clients that are not Node — curl, openssl s_client and Python's ssl module — each run as a
 * child process against the same local endpoints, with the client settings the scenario gives Node (CA bundle, server
 * name for SNI and the host name check, client certificate, CRLs, TLS versions, ciphers, ALPN). What each tool must
 * print is the `tools` row of the scenario's declaration; how each setting maps onto each tool:
 * harness/probes/external/*.ts.
 */

await loadMaterials();

describe('external clients: curl, openssl s_client, python ssl', function () {
  const cases: ExternalCase[] = [];
  const endpoints = new Map<string, Promise<Endpoint>>();
  before(async function () {
    this.timeout(120_000);
    await probeAll(cases, endpoints);
  });
  after(() => closeAll(endpoints));

  describe('the tools', () => {
    // A tool that is not installed leaves its specs pending, with the reason — unless TLS_HARNESS_REQUIRE_TOOLS=1 (set
    // by .ci/run), where they fail. The title shows the version found: the `tools` rows were observed with curl
    // 7.88.1, OpenSSL 3.0.19 and Python 3.11 (README), and a failing row on another version points here.
    const VERSIONS = { curl: /^curl \d+\.\d+\.\d+ /, 'openssl s_client': /^OpenSSL \d+\.\d+\.\d+ /, 'python ssl': /^Python 3\.\d+\.\d+ / };
    for (const tool of EXTERNAL_PROBE_NAMES) {
      const status = EXTERNAL_PROBES[tool].status();
      const title = status.available ? `${tool} is installed and reports its version: ${status.version}` : `${tool} is installed`;
      itNeeds(status.available ? undefined : status.reason, title, () => {
        expect(status.available && status.version).to.match(VERSIONS[tool]);
      });
    }
  });

  for (const family of FAMILIES) {
    describe(family, () => {
      for (const scenario of scenariosOf(family)) {
        describe(`${scenario.id}: ${scenario.title}`, () => {
          const material = MATERIALS.get(scenario.id);
          if (material instanceof Error || material === undefined) {
            it('builds its certificates and settings', () => {
              throw material ?? new Error(`no material for ${scenario.id}`);
            });
            return;
          }
          const startup = scenario.startup?.node;
          if (startup?.kind === 'throws') {
            it(`no client connects: the server never starts (https.createServer throws ${startup.code})`, async () => {
              const error: unknown = await startEndpoint(scenario).then(
                async (endpoint) => (await endpoint.close(), undefined),
                (thrown: unknown) => thrown,
              );
              expect(errorSummary(error)).to.deep.equal({ name: 'Error', code: startup.code, message: startup.message });
            });
          } else {
            for (const tool of EXTERNAL_PROBE_NAMES) cases.push(...itProbes(scenario, material, 'broken', tool));
          }
          if (material.fixed) {
            describe('fix applied (startEndpoint(id, { fixed: true }))', () => {
              for (const tool of EXTERNAL_PROBE_NAMES) cases.push(...itProbes(scenario, material, 'fixed', tool));
            });
          }
        });
      }
    });
  }

  // urlopen wraps an error raised while it opens the connection (the handshake) in URLError, `<urlopen error …>`, with
  // the ssl exception as its `reason`; an error after the handshake comes from reading the response, outside that
  // wrapping: the bare SSLError, or http.client's RemoteDisconnected for a silent close.
  describe('python urllib: urlopen wraps what fails while it connects, not what fails after', () => {
    for (const scenario of FAMILIES.flatMap(scenariosOf)) {
      const material = MATERIALS.get(scenario.id);
      if (scenario.tools.urllib === undefined || material === undefined || material instanceof Error) continue;
      describe(scenario.id, () => {
        cases.push(
          ...itProbes(scenario, material, 'broken', 'python ssl', {
            as: 'python urllib',
            cell: scenario.tools.urllib,
            client: { python: 'urllib' },
          }),
        );
      });
    }
  });
});
