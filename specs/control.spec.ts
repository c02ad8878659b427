import { createPublicKey } from 'node:crypto';
import { expect } from 'chai';
import { generateKeyPair, pki } from '../certs/index.ts';
import { TLS_VERSIONS } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itSucceedsForEveryProbe } from './support/expectations.ts';

describe('control: the healthy endpoint', () => {
  // What you see: nothing — every client completes the request.
  // Why it matters: each failure in this catalog differs from this endpoint in exactly one way, so a client that
  // fails here is misconfigured, and a failure elsewhere is the scenario's, not the harness's.
  const healthy = useEndpoint('healthy');
  for (const version of TLS_VERSIONS) {
    describe(`over ${version}`, () => itSucceedsForEveryProbe(healthy, { version }));
  }

  describe('the PKI it is minted from', () => {
    // certs/ writes the SubjectPublicKeyInfo of EC keys itself (keys.ts), for speed: held here to OpenSSL's encoding.
    it("writes an EC key's SubjectPublicKeyInfo exactly as OpenSSL exports it, for P-256 and P-384", () => {
      for (const curve of ['P-256', 'P-384'] as const) {
        const key = generateKeyPair({ type: 'ec', curve });
        const exported = key.publicKey.export({ type: 'spki', format: 'der' });
        expect(Buffer.from(key.spki).toString('hex'), curve).to.equal(exported.toString('hex'));
      }
    });

    it("puts that SubjectPublicKeyInfo in the server certificate, where OpenSSL reads it back", async () => {
      const leaf = await pki.serverLeaf();
      const inCertificate = createPublicKey(leaf.certPem).export({ type: 'spki', format: 'der' });
      expect(inCertificate.toString('hex')).to.equal(Buffer.from(leaf.key.spki).toString('hex'));
    });
  });
});
