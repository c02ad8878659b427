import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { expect } from 'chai';
import { generateKeyPair, pki, type Credential } from '../certs/index.ts';
import { findScenario, scenarioMaterial } from '../harness/index.ts';
import { findExecutable, requireTool } from './support/cli.ts';

// The PKI (certs/) encodes some structures itself instead of asking OpenSSL, for speed (see certs/keys.ts, rsa.ts).
// Every handshake of the catalog depends on them; these specs hold each one to OpenSSL directly.
describe('the PKI', () => {
  it("writes an EC key's SubjectPublicKeyInfo exactly as OpenSSL exports it, for P-256 and P-384", () => {
    for (const curve of ['P-256', 'P-384'] as const) {
      const key = generateKeyPair({ type: 'ec', curve });
      const exported = key.publicKey.export({ type: 'spki', format: 'der' });
      expect(Buffer.from(key.spki).toString('hex'), curve).to.equal(exported.toString('hex'));
    }
  });

  it('puts that SubjectPublicKeyInfo in the server certificate, where OpenSSL reads it back', async () => {
    const leaf = await pki.serverLeaf();
    const inCertificate = createPublicKey(leaf.certPem).export({ type: 'spki', format: 'der' });
    expect(inCertificate.toString('hex')).to.equal(Buffer.from(leaf.key.spki).toString('hex'));
  });

  it("assembles RSA keys from two primes that pass OpenSSL's own key check (openssl pkey -check)", async function () {
    // A sign-and-verify round trip would not catch a wrong CRT parameter: OpenSSL falls back to d when its CRT
    // result does not verify. Its key check does: p and q prime, n = p·q, d·e ≡ 1, and dp, dq, qi consistent.
    const openssl = findExecutable('openssl');
    requireTool(this, openssl, 'openssl is not installed');
    const leafOf = async (id: string): Promise<Credential> => {
      const leaf = (await scenarioMaterial(findScenario(id))).server.chain[0];
      if (!leaf) throw new Error(`${id} serves no certificate`);
      return leaf;
    };
    for (const [id, bits] of [['rsa-512-leaf', 512], ['dhe-1024', 2048]] as const) {
      const { key } = await leafOf(id);
      expect(key.privateKey.asymmetricKeyDetails, id).to.deep.equal({ modulusLength: bits, publicExponent: 65537n });
      const check = spawnSync(openssl as string, ['pkey', '-check', '-noout'], { input: key.privateKeyPem, encoding: 'utf8', timeout: 10_000 });
      expect(check.error, id).to.equal(undefined);
      expect(`${check.stdout}${check.stderr}`.trim(), id).to.equal('Key is valid');
      expect(check.status, id).to.equal(0);
    }
  });
});
