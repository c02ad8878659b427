import type { SecureVersion } from 'node:tls';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { pki, writePemFiles } from '../certs/index.ts';
import { PROBE_NAMES, probeInChild, scenarioMaterial, findScenario, type ChildProbe, type Outcome, type Endpoint, type ProbeName } from '../harness/index.ts';
import { TLS_VERSIONS, only, verifyMessage } from './support/runtime.ts';
import { startOnBackend, useEndpoint } from './support/endpoints.ts';
import { useEarly } from './support/early.ts';
import {
  expectFailure,
  expectSuccess,
  forProbe,
  itFailsForEveryProbe,
  itSucceedsForEveryProbe,
  type ExpectedFailure,
} from './support/expectations.ts';

/**
 * A chain that fails verification: Node's code for the OpenSSL error and its message. Since Node 23.11 (every 24.x)
 * the message of DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE and UNABLE_TO_GET_ISSUER_CERT ends in
 * a --use-system-ca hint; verifyMessage (support/runtime.ts) says exactly when.
 */
function untrusted(code: string, reason: string): ExpectedFailure {
  return { code, message: verifyMessage(code, reason), phase: 'handshake' };
}

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
          untrusted('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
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
          untrusted('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'),
          { version },
        );
        describe('fix: `ca: [root]`', () => itSucceedsForEveryProbe(trusted, { version }));
        describe('fix: `ca: [...tls.rootCertificates, root]` keeps the public roots', () =>
          itSucceedsForEveryProbe(trusted, { version, with: () => ({ ca: [...tls.rootCertificates, ...trusted().ca] }) }));
      });
    }
  });

  describe('self-signed-leaf: the server certificate signed itself', () => {
    // What you see: DEPTH_ZERO_SELF_SIGNED_CERT 'self-signed certificate' (on Node 24+: 'self-signed certificate; if
    // the root CA is installed locally, try running Node.js with --use-system-ca').
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
          untrusted('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
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
    const ids = [...scenarios, 'healthy'];
    const withoutCa = ids.flatMap((id) => TLS_VERSIONS.flatMap((version) => PROBE_NAMES.map((probe) => ({ id, version, probe }))));
    // A client that passes `ca` (here: an unrelated root) loses the default store, NODE_EXTRA_CA_CERTS included.
    const withUnrelatedCa = PROBE_NAMES.map((probe) => ({ id: 'healthy', probe, version: 'TLSv1.3' as const }));
    // The child process starts with the run (useEarly): its ~0.6 s overlap the other specs.
    const childRun = useEarly(async () => {
      const endpoints = new Map(await Promise.all(ids.map(async (id) => [id, await startOnBackend(id)] as const)));
      const endpoint = (id: string) => endpoints.get(id) as Endpoint;
      // Each scenario's fixed client trusts exactly the CA that scenario needs: one bundle holds them all.
      const fixedTrust = await Promise.all(scenarios.map(async (id) => (await scenarioMaterial(findScenario(id))).fixed?.client?.trust ?? []));
      const bundle = await writePemFiles({ 'extra-ca.pem': fixedTrust.flat().map((c) => c.certPem).join('') });
      try {
        const unrelatedRoot = (await pki.untrustedClientCa()).certPem;
        const plan: ChildProbe[] = [
          ...withoutCa.map((c) => childProbe(endpoint(c.id), c.probe, c.version, undefined)),
          ...withUnrelatedCa.map((c) => childProbe(endpoint(c.id), c.probe, c.version, [unrelatedRoot])),
        ];
        const results = await probeInChild(plan, { NODE_EXTRA_CA_CERTS: bundle.paths['extra-ca.pem'] ?? '' });
        const outcomes = new Map<object, Outcome>();
        [...withoutCa, ...withUnrelatedCa].forEach((c, index) => outcomes.set(c, results[index] as Outcome));
        return { outcomes, endpoint };
      } finally {
        await Promise.all([...endpoints.values()].map((e) => e.close()));
        await bundle.close();
      }
    });

    for (const c of withoutCa) {
      it(`${c.id} over ${c.version}: ${c.probe} with no \`ca\` option succeeds: HTTP 200`, () =>
        expectSuccess(childRun().outcomes.get(c) as Outcome, childRun().endpoint(c.id), c.version));
    }
    for (const c of withUnrelatedCa) {
      it(`${c.probe} with \`ca: [unrelated root]\` fails with UNABLE_TO_GET_ISSUER_CERT_LOCALLY: the extra CAs are gone`, () =>
        expectFailure(
          childRun().outcomes.get(c) as Outcome,
          forProbe(c.probe, untrusted('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate')),
        ));
    }

    function childProbe(endpoint: Endpoint, probe: ProbeName, version: SecureVersion, ca: string[] | undefined): ChildProbe {
      const { ca: _scenarioCa, ...options } = endpoint.clientOptions();
      return { probe, target: { host: endpoint.host, port: endpoint.port }, options: { ...options, ...only(version), ...(ca ? { ca } : {}) } };
    }
  });

  describe('missing-intermediate: the server sends its leaf without the intermediate', () => {
    // What you see: UNABLE_TO_VERIFY_LEAF_SIGNATURE 'unable to verify the first certificate' (Node 24+ appends
    // '; if the root CA is installed locally, try running Node.js with --use-system-ca').
    // Why: the server sends only its leaf (cert.pem instead of fullchain.pem). The client trusts the root, but
    // the intermediate between leaf and root is neither sent nor trusted, so the leaf's signature cannot be
    // checked. The same site may work in a browser: browsers cache intermediates and fetch a missing one from
    // the leaf's AIA URL. OpenSSL, and so every Node client, never fetches anything.
    // Fix: send the full chain, leaf first (`cert: leaf + intermediate`). Workaround when the server is not
    // yours: add the intermediate to the client's `ca`.
    const broken = useEndpoint('missing-intermediate');
    const fullChain = useEndpoint('missing-intermediate', { fixed: true });
    let intermediate = '';
    before(async () => {
      intermediate = (await pki.intermediateCa()).certPem;
    });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          untrusted('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
          { version },
        );
        describe('fix: the server sends leaf + intermediate', () => itSucceedsForEveryProbe(fullChain, { version }));
        describe('workaround on the client: `ca: [root, intermediate]`', () =>
          itSucceedsForEveryProbe(broken, { version, with: () => ({ ca: [...broken().ca, intermediate] }) }));
      });
    }
  });

  describe("unknown-issuer-leaf-only: a leaf issued by a private root, checked against Node's default roots", () => {
    // What you see: UNABLE_TO_VERIFY_LEAF_SIGNATURE 'unable to verify the first certificate' (+ the --use-system-ca
    // hint on Node 24+) — the same as a missing intermediate, and not the UNABLE_TO_GET_ISSUER_CERT_LOCALLY of
    // private-ca-default-store, although the cause is the same unknown private root: when the server sends no CA
    // certificate at all, OpenSSL reports the failure at the leaf itself.
    // Why: the server sends one certificate, issued straight from a private root (as mkcert does); the client
    // passes no `ca`, so it trusts Node's bundled Mozilla roots only.
    // Fix: give the client that root — `ca: [root]`, `ca: [...tls.rootCertificates, root]`, or NODE_EXTRA_CA_CERTS.
    const broken = useEndpoint('unknown-issuer-leaf-only');
    const trusted = useEndpoint('unknown-issuer-leaf-only', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          untrusted('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
          { version },
        );
        describe('fix: `ca: [root]`', () => itSucceedsForEveryProbe(trusted, { version }));
        describe('fix: `ca: [...tls.rootCertificates, root]` keeps the public roots', () =>
          itSucceedsForEveryProbe(trusted, { version, with: () => ({ ca: [...tls.rootCertificates, ...trusted().ca] }) }));
      });
    }
  });

  describe('only-intermediate-trusted: the client trusts the intermediate, not the root', () => {
    // What you see: UNABLE_TO_GET_ISSUER_CERT 'unable to get issuer certificate' (Node 24+ appends the --use-system-ca
    // hint, although here the fix is to trust the root, not the system store).
    // Why: the client's only CA is the intermediate. OpenSSL treats a trusted certificate that is not
    // self-signed as one more link, not as the end of the chain, and looks for the intermediate's issuer (the
    // root), which is neither sent nor trusted.
    // Fix: trust the root. If only the intermediate may be trusted: `allowPartialTrustChain: true` (Node ≥ 20.18 /
    // 22.9; OpenSSL's X509_V_FLAG_PARTIAL_CHAIN) accepts a chain that ends in any trusted certificate.
    const broken = useEndpoint('only-intermediate-trusted');
    const trusted = useEndpoint('only-intermediate-trusted', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          untrusted('UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate'),
          { version },
        );
        describe('fix: trust the root (`ca: [root]`)', () => itSucceedsForEveryProbe(trusted, { version }));
        describe('fix: keep `ca: [intermediate]` and set `allowPartialTrustChain: true`', () =>
          itSucceedsForEveryProbe(broken, { version, with: { allowPartialTrustChain: true } }));
      });
    }
  });

  describe('intermediate-sent-twice: the chain holds the intermediate twice (accepted)', () => {
    // What you see: nothing — every client connects.
    // Why: OpenSSL takes the certificates after the leaf as an unordered pool of candidates for building the
    // path; a duplicate is simply never used. (Typical cause: fullchain.pem and chain.pem concatenated.)
    // Fix: none needed; drop the duplicate to save bytes in every handshake.
    const endpoint = useEndpoint('intermediate-sent-twice');
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => itSucceedsForEveryProbe(endpoint, { version }));
    }
  });

  describe('chain-out-of-order: the intermediates after the leaf are reversed (accepted)', () => {
    // What you see: nothing — every client connects, over TLS 1.2 as over TLS 1.3.
    // Why: the server sends leaf, top intermediate, issuing intermediate. TLS 1.2 (RFC 5246) required issuer
    // order, TLS 1.3 (RFC 8446 §4.4.2) allows any order after the leaf; OpenSSL builds the path from the pool
    // either way. Only the leaf's place is fixed, and a Node server enforces it itself: the first certificate of
    // `cert` is the one paired with `key`, so an intermediate in first place stops the server from starting.
    // Fix: none needed for Node; order the chain leaf → issuing CA → higher CAs for strict clients.
    const endpoint = useEndpoint('chain-out-of-order');
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => itSucceedsForEveryProbe(endpoint, { version }));
    }
    it("an intermediate before the leaf: the server's createSecureContext throws ERR_OSSL_X509_KEY_VALUES_MISMATCH", async () => {
      const [leaf, , issuing] = (await scenarioMaterial(findScenario('chain-out-of-order'))).server.chain;
      if (!leaf || !issuing) throw new Error('chain-out-of-order serves leaf, top and issuing CA');
      const error = thrownBy(() => tls.createSecureContext({ key: leaf.keyPem, cert: issuing.certPem + leaf.certPem }));
      expect(error).to.include({
        code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
        message: 'error:05800074:x509 certificate routines::key values mismatch',
      });
    });
  });

  describe('cross-signed-expired-root: the chain leads to an expired root, the only one the client trusts', () => {
    // What you see: CERT_HAS_EXPIRED 'certificate has expired' — yet leaf, issuing CA and the cross-signed
    // certificate the server sends are all within their dates. The expired certificate is the client's own trust
    // anchor: the Let's Encrypt DST Root CA X3 expiry of 30 September 2021.
    // Why: the server sends leaf, issuing CA ("R3") and the new root cross-signed by the old root ("ISRG Root X1
    // by DST Root CA X3"). A client that trusts only the old root builds the path up to it and checks its dates.
    // Fix: trust the new root (update the CA bundle / `ca`). The server keeps sending the cross-signed copy; a
    // client that trusts the new root stops at it. Keeping the old root next to the new one does no harm on
    // OpenSSL ≥ 1.1.1, which tries trusted certificates first (OpenSSL 1.0.2 followed the chain to the old root).
    const broken = useEndpoint('cross-signed-expired-root');
    const newRoot = useEndpoint('cross-signed-expired-root', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired', phase: 'handshake' }, { version });
        describe('fix: trust the new root', () => itSucceedsForEveryProbe(newRoot, { version }));
        describe('fix: trust the new root next to the expired old one (`ca: [oldRoot, newRoot]`)', () =>
          itSucceedsForEveryProbe(broken, { version, with: () => ({ ca: [...broken().ca, ...newRoot().ca] }) }));
      });
    }
  });
});

/** The error `action` throws (the assertion fails if it throws none). */
function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected an error, none was thrown');
}
