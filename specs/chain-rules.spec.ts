import { expect } from 'chai';
import { PROBE_NAMES } from '../harness/index.ts';
import { TLS_VERSIONS, only } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { HANDSHAKE_FAILURE, alertInHandshake } from './support/refusals.ts';
import { itFails, itFailsForEveryProbe, itSucceedsForEveryProbe, opensslError } from './support/expectations.ts';

describe('chain rules', () => {
  describe('intermediate-not-ca: the certificate that issued the leaf is CA:FALSE', () => {
    // What you see: INVALID_PURPOSE 'unsuitable certificate purpose' — not INVALID_CA: OpenSSL checks each issuer
    // for the "TLS server CA" purpose, and a certificate whose basicConstraints say CA:FALSE fails that check.
    // Why: an end-entity certificate (basicConstraints CA:FALSE) was used to sign the leaf; its keyCertSign bit
    // does not make it a CA.
    // Fix: issue the leaf from a real CA certificate (CA:TRUE, keyCertSign).
    const broken = useEndpoint('intermediate-not-ca');
    const fixed = useEndpoint('intermediate-not-ca', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'INVALID_PURPOSE', message: 'unsuitable certificate purpose', phase: 'handshake' }, { version });
        describe('fix: a leaf issued by a CA:TRUE intermediate', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('intermediate-without-basic-constraints: the issuing certificate has no basicConstraints at all', () => {
    // What you see: INVALID_CA 'invalid CA certificate'.
    // Why: without basicConstraints a v3 certificate is not a CA (RFC 5280 §4.2.1.9), whatever its keyUsage says.
    // Compare intermediate-not-ca: an explicit CA:FALSE is reported as INVALID_PURPOSE instead.
    // Fix: reissue the intermediate with basicConstraints critical CA:TRUE.
    const broken = useEndpoint('intermediate-without-basic-constraints');
    const fixed = useEndpoint('intermediate-without-basic-constraints', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'INVALID_CA', message: 'invalid CA certificate', phase: 'handshake' }, { version });
        describe('fix: an intermediate with basicConstraints CA:TRUE', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('intermediate-without-keycertsign: the intermediate CA may not sign certificates', () => {
    // What you see: UNSPECIFIED 'key usage does not include certificate signing'. Node maps only some OpenSSL
    // verification errors to codes; this one has none, so the code is UNSPECIFIED and OpenSSL's reason is the
    // message (match on the message, not the code).
    // Why: the intermediate is CA:TRUE, but its keyUsage (digitalSignature, cRLSign) lacks keyCertSign.
    // Fix: reissue the intermediate with keyUsage keyCertSign, cRLSign.
    const broken = useEndpoint('intermediate-without-keycertsign');
    const fixed = useEndpoint('intermediate-without-keycertsign', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'UNSPECIFIED', message: 'key usage does not include certificate signing', phase: 'handshake' },
          { version },
        );
        describe('fix: an intermediate with keyUsage keyCertSign', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('path-length-exceeded: a sub-CA under an intermediate with pathLen 0', () => {
    // What you see: PATH_LENGTH_EXCEEDED 'path length constraint exceeded'.
    // Why: root → intermediate (CA:TRUE, pathlen:0) → sub-CA → leaf. pathlen:0 allows no CA below the
    // intermediate, so the sub-CA's place in the chain breaks the constraint.
    // Fix: issue the leaf from the pathLen-0 intermediate itself.
    const broken = useEndpoint('path-length-exceeded');
    const fixed = useEndpoint('path-length-exceeded', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          broken,
          { code: 'PATH_LENGTH_EXCEEDED', message: 'path length constraint exceeded', phase: 'handshake' },
          { version },
        );
        describe('fix: the leaf issued by the pathLen-0 intermediate directly', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('name-constraint-violation: the leaf names a host outside the CA’s permitted subtree', () => {
    // What you see: UNSPECIFIED 'permitted subtree violation' (no Node code for this OpenSSL error).
    // Why: the intermediate's nameConstraints permit DNS names under example.com only; the leaf it issued is for
    // localhost. (The leaf's IP SANs are not constrained: the CA has no IP subtree.)
    // Fix: a certificate from a CA allowed to issue for the name — here an intermediate that permits localhost.
    const broken = useEndpoint('name-constraint-violation');
    const fixed = useEndpoint('name-constraint-violation', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'UNSPECIFIED', message: 'permitted subtree violation', phase: 'handshake' }, { version });
        describe('fix: issued by an intermediate whose constraints permit localhost', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('name-constraint-excluded: the leaf names a host the CA’s constraints exclude', () => {
    // What you see: UNSPECIFIED 'excluded subtree violation' (no Node code for this OpenSSL error).
    // Why: the intermediate's nameConstraints exclude localhost, and it issued a certificate for localhost.
    // Fix: a certificate from a CA whose constraints do not exclude the name.
    const broken = useEndpoint('name-constraint-excluded');
    const fixed = useEndpoint('name-constraint-excluded', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'UNSPECIFIED', message: 'excluded subtree violation', phase: 'handshake' }, { version });
        describe('fix: issued by an unconstrained intermediate', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('unknown-critical-extension: the leaf carries an unknown extension marked critical', () => {
    // What you see: UNSPECIFIED 'unhandled critical extension' (no Node code for this OpenSSL error).
    // Why: RFC 5280 — a verifier must reject a certificate with a critical extension it does not understand. The
    // same extension, non-critical, is ignored.
    // Fix: reissue the certificate with the extension non-critical (or without it).
    const broken = useEndpoint('unknown-critical-extension');
    const fixed = useEndpoint('unknown-critical-extension', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'UNSPECIFIED', message: 'unhandled critical extension', phase: 'handshake' }, { version });
        describe('fix: the same extension, non-critical', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('leaf-eku-client-auth-only: the server certificate is for client authentication only', () => {
    // What you see: INVALID_PURPOSE 'unsuitable certificate purpose'.
    // Why: the leaf's extendedKeyUsage lists clientAuth and not serverAuth; Node verifies server chains for the
    // TLS-server purpose.
    // Fix: reissue the certificate with extendedKeyUsage serverAuth.
    const broken = useEndpoint('leaf-eku-client-auth-only');
    const fixed = useEndpoint('leaf-eku-client-auth-only', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'INVALID_PURPOSE', message: 'unsuitable certificate purpose', phase: 'handshake' }, { version });
        describe('fix: a leaf with extendedKeyUsage serverAuth', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });

  describe('ca-cert-as-leaf: the server presents its CA certificate and key as its own', () => {
    // What you see: TLS 1.3 — INVALID_PURPOSE 'unsuitable certificate purpose' at the client. TLS 1.2 — the
    // handshake-failure alert from the server (EPROTO from https), and no certificate check at all.
    // Why: the CA certificate's keyUsage is keyCertSign + cRLSign. Over TLS 1.2 the server's OpenSSL will not
    // sign an ECDHE key exchange with a key that lacks digitalSignature, is left with no cipher suite it can use
    // ("no shared cipher") and aborts. TLS 1.3 servers do not check their own keyUsage, so the certificate reaches
    // the client, which refuses it for the TLS-server purpose. (It is the keyUsage that fails: OpenSSL accepts a
    // CA:TRUE leaf whose keyUsage includes digitalSignature.)
    // Fix: issue a server certificate from the CA and serve it with the CA as its chain.
    const broken = useEndpoint('ca-cert-as-leaf');
    const fixed = useEndpoint('ca-cert-as-leaf', { fixed: true });

    describe('over TLSv1.3', () => {
      itFailsForEveryProbe(broken, { code: 'INVALID_PURPOSE', message: 'unsuitable certificate purpose', phase: 'handshake' }, { version: 'TLSv1.3' });
    });

    describe('over TLSv1.2', () => {
      // The server's handshake_failure alert; https.request reports it as its request write's EPROTO.
      for (const probe of PROBE_NAMES) itFails(broken, probe, alertInHandshake(probe, HANDSHAKE_FAILURE), { version: 'TLSv1.2' });
      it("the server's view: tlsClientError ERR_SSL_NO_SHARED_CIPHER", async () => {
        const outcome = await broken().probe('tls.connect', only('TLSv1.2'));
        const event = await broken().serverView(outcome);
        expect(event).to.deep.include({ kind: 'tls-client-error', code: 'ERR_SSL_NO_SHARED_CIPHER' });
        expect(event.kind === 'tls-client-error' && event.message).to.match(opensslError('no shared cipher'));
      });
    });

    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: a server certificate issued by the CA, sent with the CA`, () =>
        itSucceedsForEveryProbe(fixed, { version }));
    }
  });

  describe('tampered-signature: the leaf’s signature does not verify against its issuer', () => {
    // What you see: CERT_SIGNATURE_FAILURE 'certificate signature failure'.
    // Why: one bit of the leaf's signature was flipped after signing; the intermediate's public key no longer
    // verifies it. (Same error for a leaf served with a same-named intermediate that holds a different key.)
    // Fix: serve the certificate exactly as issued, with the intermediate that issued it.
    const broken = useEndpoint('tampered-signature');
    const fixed = useEndpoint('tampered-signature', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(broken, { code: 'CERT_SIGNATURE_FAILURE', message: 'certificate signature failure', phase: 'handshake' }, { version });
        describe('fix: the certificate as the CA issued it', () => itSucceedsForEveryProbe(fixed, { version }));
      });
    }
  });
});
