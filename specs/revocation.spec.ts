import { TLS_VERSIONS } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itFailsForEveryProbe, itSucceedsForEveryProbe } from './support/expectations.ts';
import { revocationList } from '../certs/index.ts';
import { findScenario, scenarioMaterial, type ClientOptions, type Endpoint } from '../harness/index.ts';

/** The CRLs an endpoint's client checks (its `crl` option), for giving them to another client. */
function crlOf(endpoint: () => Endpoint): () => ClientOptions {
  return () => {
    const { crl } = endpoint().clientOptions();
    if (!crl) throw new Error(`${endpoint().scenario.id}: the client has no CRLs`);
    return { crl };
  };
}

describe('revocation', () => {
  describe('revoked-leaf: the server certificate is revoked, the client has CRLs for the whole chain', () => {
    // What you see: CERT_REVOKED 'certificate revoked', from every client, during the handshake.
    // Why: the client passes `crl` with the intermediate's CRL (which lists the leaf's serial) and the root's CRL,
    // so OpenSSL can check every certificate of the chain and finds the leaf revoked.
    // Fix: on the server, replace the certificate (new key, new certificate). The client keeps the same CRLs.
    const revoked = useEndpoint('revoked-leaf');
    const replaced = useEndpoint('revoked-leaf', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(revoked, { code: 'CERT_REVOKED', message: 'certificate revoked', phase: 'handshake' }, { version });
        describe('fix: a replacement certificate, same CRLs on the client', () => itSucceedsForEveryProbe(replaced, { version }));
      });
    }
  });

  describe('revoked-intermediate: the leaf is fine, the intermediate that issued it is revoked', () => {
    // What you see: CERT_REVOKED 'certificate revoked' — the same as for a revoked leaf; the error does not say
    // which certificate of the chain is revoked.
    // Why: the root's CRL lists the intermediate's serial; revoking a CA certificate revokes everything below it.
    // Fix: on the server, a certificate from a CA that is not revoked, sent with that CA's intermediate.
    const revoked = useEndpoint('revoked-intermediate');
    const reissued = useEndpoint('revoked-intermediate', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(revoked, { code: 'CERT_REVOKED', message: 'certificate revoked', phase: 'handshake' }, { version });
        describe('fix: a certificate from an intermediate that is not revoked', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe("crl-for-issuer-only: the client passes only the issuing CA's CRL", () => {
    // What you see: UNABLE_TO_GET_CRL 'unable to get certificate CRL' — for a server whose certificate is fine.
    // Why: Node's `crl` option switches on CRL checking for every certificate of the chain (OpenSSL's CRL_CHECK and
    // CRL_CHECK_ALL), not just the leaf. The leaf is checked against the intermediate's CRL, but there is no CRL
    // from the root to check the intermediate against, and a missing CRL fails the chain.
    // Fix: pass a CRL for every CA in the chain (the intermediate's and the root's).
    const issuerOnly = useEndpoint('crl-for-issuer-only');
    const everyCa = useEndpoint('crl-for-issuer-only', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          issuerOnly,
          { code: 'UNABLE_TO_GET_CRL', message: 'unable to get certificate CRL', phase: 'handshake' },
          { version },
        );
        describe("fix: the root's CRL as well", () => itSucceedsForEveryProbe(everyCa, { version }));
      });
    }

    describe('a revoked leaf checked with the same single CRL is reported the same way', () => {
      // The intermediate's CRL lists the revoked-leaf scenario's certificate, yet the error is UNABLE_TO_GET_CRL,
      // not CERT_REVOKED: Node's verify callback lets OpenSSL check the whole chain and reports the last error,
      // so the missing root CRL (checked after the leaf) hides the revocation. Passing both CRLs gives
      // CERT_REVOKED (revoked-leaf).
      const revoked = useEndpoint('revoked-leaf');
      let issuerCrl: string[] | undefined;
      before(async () => {
        const [leaf, intermediate] = (await scenarioMaterial(findScenario('revoked-leaf'))).server.chain;
        if (!leaf || !intermediate) throw new Error('revoked-leaf serves leaf and intermediate');
        issuerCrl = [await revocationList(intermediate, [leaf])];
      });
      const issuerCrlOnly = (): ClientOptions => {
        if (!issuerCrl) throw new Error('the CRL is built in before()');
        return { crl: issuerCrl };
      };
      for (const version of TLS_VERSIONS) {
        describe(`over ${version}`, () =>
          itFailsForEveryProbe(
            revoked,
            { code: 'UNABLE_TO_GET_CRL', message: 'unable to get certificate CRL', phase: 'handshake' },
            { version, with: issuerCrlOnly },
          ));
      }
    });
  });

  describe('revoked-no-crl: the server certificate is revoked and the client has no CRL (Node accepts it)', () => {
    // What you see: nothing — Node completes the request with a revoked certificate. A strict client must reject
    // it; Node is not strict here: it downloads no CRL (it ignores the CRL distribution points) and asks no OCSP
    // responder. It knows about revocation only from CRLs you pass as `crl` (a stapled OCSP response is only
    // requested with `requestOCSP: true`, and handed to you unverified in the `OCSPResponse` event).
    // Browsers do not fetch CRLs per connection either: they rely on revocation data their vendor pushes to them
    // (Chrome's CRLSets, Firefox's CRLite).
    // Fix: on the server, replace the certificate. On the client, to notice at all: pass the chain's CRLs as `crl`
    // (kept fresh) — then the same server fails with CERT_REVOKED.
    const unchecked = useEndpoint('revoked-no-crl');
    const fixed = useEndpoint('revoked-no-crl', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        describe('Node accepts the revoked certificate', () => itSucceedsForEveryProbe(unchecked, { version }));
        describe('a client given the CRLs notices', () =>
          itFailsForEveryProbe(
            unchecked,
            { code: 'CERT_REVOKED', message: 'certificate revoked', phase: 'handshake' },
            { version, with: crlOf(fixed) },
          ));
        describe('fix: a replacement certificate, checked against the CRLs', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('expired-crl: the client checks against a CRL past its nextUpdate', () => {
    // What you see: CRL_HAS_EXPIRED 'CRL has expired' — for a server whose certificate is fine.
    // Why: the client's copy of the intermediate's CRL is stale (nextUpdate a week ago). A stale CRL cannot tell
    // whether a certificate was revoked since, and OpenSSL does not use it.
    // Fix: refresh CRLs before their nextUpdate (re-download them on a schedule) and pass the current ones.
    const stale = useEndpoint('expired-crl');
    const refreshed = useEndpoint('expired-crl', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(stale, { code: 'CRL_HAS_EXPIRED', message: 'CRL has expired', phase: 'handshake' }, { version });
        describe('fix: a current CRL', () => itSucceedsForEveryProbe(refreshed, { version }));
      });
    }
  });

  describe('crl-not-yet-valid: the client checks against a CRL issued "tomorrow"', () => {
    // What you see: CRL_NOT_YET_VALID 'CRL is not yet valid' — for a server whose certificate is fine.
    // Why: the intermediate's CRL has thisUpdate in the future: the CA's clock is ahead, or the client's is behind.
    // Fix: sync the clocks (NTP); the CA should publish CRLs with thisUpdate = now.
    const early = useEndpoint('crl-not-yet-valid');
    const current = useEndpoint('crl-not-yet-valid', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(early, { code: 'CRL_NOT_YET_VALID', message: 'CRL is not yet valid', phase: 'handshake' }, { version });
        describe('fix: a CRL that is valid now', () => itSucceedsForEveryProbe(current, { version }));
      });
    }
  });
});
