import type { SecureVersion } from 'node:tls';
import * as tls from 'node:tls';
import { pki, writePemFiles, type PemFiles } from '../certs/index.ts';
import { PROBE_NAMES, probeInChild, scenarioMaterial, findScenario, type ChildProbe, type Outcome, type Endpoint, type ProbeName } from '../harness/index.ts';
import { TLS_VERSIONS, only } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { expectFailure, expectSuccess, forProbe, itFailsForEveryProbe, itSucceedsForEveryProbe } from './support/expectations.ts';

describe('trust', () => {
  describe('untrusted-root-in-chain: the server sends a private root the client does not trust', () => {
    // What you see: SELF_SIGNED_CERT_IN_CHAIN 'self-signed certificate in certificate chain'.
    // Why: the server sends leaf, intermediate and root. The chain is complete, but it ends in a self-signed
    // root that is not among the client's trusted CAs.
    // Fix: trust that root — the `ca` option, or NODE_EXTRA_CA_CERTS (below). Not rejectUnauthorized: false.
    const broken = useEndpoint('untrusted-root-in-chain');
    const trusted = useEndpoint('untrusted-root-in-chain', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain', phase: 'handshake' },
          { version },
        );
        describe('fix: trust the root with the `ca` option', () => itSucceedsForEveryProbe(trusted, { version }));
      });
    }
  });

  describe("private-ca-default-store: a private CA checked against Node's default roots", () => {
    // What you see: UNABLE_TO_GET_ISSUER_CERT_LOCALLY 'unable to get local issuer certificate'.
    // Why: the client passes no `ca`, so it trusts Node's bundled Mozilla roots, and the private root that
    // issued the server's intermediate is not one of them. (Typical behind a corporate TLS-inspecting proxy.)
    // Fix: give the client that root — `ca: [root]`, or `ca: [...tls.rootCertificates, root]` to keep the public
    // roots, or NODE_EXTRA_CA_CERTS (below).
    const broken = useEndpoint('private-ca-default-store');
    const trusted = useEndpoint('private-ca-default-store', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', message: 'unable to get local issuer certificate', phase: 'handshake' },
          { version },
        );
        describe('fix: `ca: [root]`', () => itSucceedsForEveryProbe(trusted, { version }));
        describe('fix: `ca: [...tls.rootCertificates, root]` keeps the public roots', () =>
          itSucceedsForEveryProbe(trusted, { version, with: () => ({ ca: [...tls.rootCertificates, ...trusted().ca] }) }));
      });
    }
  });

  describe('self-signed-leaf: the server certificate signed itself', () => {
    // What you see: DEPTH_ZERO_SELF_SIGNED_CERT 'self-signed certificate'.
    // Why: the server presents one certificate that is its own issuer (made with `selfsigned`, or
    // `openssl req -x509`); there is no CA above it, so verification fails at depth zero.
    // Fix: in development, trust that exact certificate (`ca: [cert]` or NODE_EXTRA_CA_CERTS); anywhere shared,
    // issue the certificate from a CA and trust the CA.
    const broken = useEndpoint('self-signed-leaf');
    const trusted = useEndpoint('self-signed-leaf', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate', phase: 'handshake' },
          { version },
        );
        describe('fix: trust the certificate itself with `ca`', () => itSucceedsForEveryProbe(trusted, { version }));
      });
    }
  });

  describe('fix with NODE_EXTRA_CA_CERTS (read once, at process start: probed from a child process)', () => {
    // NODE_EXTRA_CA_CERTS=/path/bundle.pem adds the bundle's CAs to Node's default roots for every client in the
    // process — tls, https and the global fetch alike, with no code change. Node reads it at start-up only, so
    // setting process.env inside a running process does nothing; the probes run in a fresh Node that has it.
    // It does not help a client that passes `ca`: `ca` replaces the default store, extra CAs included.
    const scenarios = ['untrusted-root-in-chain', 'private-ca-default-store', 'self-signed-leaf'];
    const endpoints = [...scenarios, 'healthy'].map((id) => ({ id, endpoint: useEndpoint(id) }));
    const withoutCa = endpoints.flatMap(({ id, endpoint }) =>
      TLS_VERSIONS.flatMap((version) => PROBE_NAMES.map((probe) => ({ id, endpoint, version, probe }))),
    );
    // A client that passes `ca` (here: an unrelated root) loses the default store, NODE_EXTRA_CA_CERTS included.
    const healthy = endpoints[endpoints.length - 1]?.endpoint as () => Endpoint;
    const withUnrelatedCa = PROBE_NAMES.map((probe) => ({ probe, endpoint: healthy, version: 'TLSv1.3' as const }));
    const outcomes = new Map<object, Outcome>();
    let bundle: PemFiles | undefined;

    before(async () => {
      // Each scenario's fixed client trusts exactly the CA that scenario needs: one bundle holds them all.
      const fixedTrust = await Promise.all(scenarios.map(async (id) => (await scenarioMaterial(findScenario(id))).fixed?.client?.trust ?? []));
      bundle = await writePemFiles({ 'extra-ca.pem': fixedTrust.flat().map((c) => c.certPem).join('') });
      const unrelatedRoot = (await pki.untrustedClientCa()).certPem;
      const plan: ChildProbe[] = [
        ...withoutCa.map((c) => childProbe(c.endpoint(), c.probe, c.version, undefined)),
        ...withUnrelatedCa.map((c) => childProbe(c.endpoint(), c.probe, c.version, [unrelatedRoot])),
      ];
      const results = await probeInChild(plan, { NODE_EXTRA_CA_CERTS: bundle.paths['extra-ca.pem'] ?? '' });
      [...withoutCa, ...withUnrelatedCa].forEach((c, index) => outcomes.set(c, results[index] as Outcome));
    });
    after(async () => bundle?.close());

    for (const c of withoutCa) {
      it(`${c.id} over ${c.version}: ${c.probe} with no \`ca\` option succeeds: HTTP 200`, () =>
        expectSuccess(outcomes.get(c) as Outcome, c.endpoint(), c.version));
    }
    for (const c of withUnrelatedCa) {
      it(`${c.probe} with \`ca: [unrelated root]\` fails with UNABLE_TO_GET_ISSUER_CERT_LOCALLY: the extra CAs are gone`, () =>
        expectFailure(
          outcomes.get(c) as Outcome,
          forProbe(c.probe, { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', message: 'unable to get local issuer certificate', phase: 'handshake' }),
        ));
    }

    function childProbe(endpoint: Endpoint, probe: ProbeName, version: SecureVersion, ca: string[] | undefined): ChildProbe {
      const { ca: _scenarioCa, ...options } = endpoint.clientOptions();
      return { probe, target: { host: endpoint.host, port: endpoint.port }, options: { ...options, ...only(version), ...(ca ? { ca } : {}) } };
    }
  });
});
