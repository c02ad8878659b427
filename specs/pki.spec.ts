import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { certificate, dhParametersPem, generateKeyPair, localLeaf, pki, type CertificateBuilder, type Credential } from '../certs/index.ts';
import { findScenario, scenarioMaterial } from '../harness/index.ts';
import { findExecutable } from '../harness/servers/child.ts';
import { itNeeds } from './support/runner.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The error build() rejects with, or undefined when it builds. */
async function buildError(builder: CertificateBuilder): Promise<Error | undefined> {
  return builder.build().then(
    () => undefined,
    (error: unknown) => error as Error,
  );
}

// Every handshake of the catalog runs on what certs/ mints; these specs hold it to OpenSSL, which reads it there.
describe('the PKI', () => {
  it('refuses to mint a certificate OpenSSL cannot parse, naming it (a key pair whose SubjectPublicKeyInfo is an empty SEQUENCE)', async () => {
    const key = { ...generateKeyPair(), spki: Uint8Array.of(0x30, 0x00) };
    const error = await buildError(certificate('localhost').label('broken leaf').key(key));
    expect(error?.message).to.equal('certificate "broken leaf": OpenSSL cannot parse it');
  });

  it("refuses to mint a certificate whose signature OpenSSL does not verify with the issuer's key, naming it", async () => {
    const key = { ...generateKeyPair(), publicKey: generateKeyPair().publicKey };
    const error = await buildError(certificate('localhost').label('mismatched key').key(key));
    expect(error?.message).to.equal('certificate "mismatched key": its signature does not verify with its issuer\'s public key');
  });

  it('mints the server leaf as built, as OpenSSL reads it: CN=localhost, O=tls-harness, DNS:localhost, 127.0.0.1, ::1, issued by the intermediate, valid from a day ago for 31 days', async () => {
    const intermediate = await pki.intermediateCa();
    const before = Date.now();
    const leaf = await localLeaf('localhost').issuedBy(intermediate).build(); // the pki.serverLeaf recipe
    const after = Date.now();
    const parsed = new X509Certificate(leaf.der);
    expect(parsed.subject).to.equal('CN=localhost\nO=tls-harness');
    expect(parsed.subjectAltName).to.equal('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(parsed.issuer).to.equal('CN=tls-harness Intermediate CA\nO=tls-harness');
    expect(parsed.verify(intermediate.key.publicKey)).to.equal(true);
    // Validity is written at one-second precision, so notBefore may be up to a second before the build started.
    const notBefore = new Date(parsed.validFrom).getTime();
    expect(notBefore).to.be.within(before - DAY_MS - 1000, after - DAY_MS);
    expect(new Date(parsed.validTo).getTime() - notBefore).to.equal(31 * DAY_MS);
  });

  it('gives the RSA leaves of the scenarios the modulus they ask for, with exponent 65537: rsa-512-leaf 512 bits, rsa-1024-leaf 1024, dhe-1024 2048', async () => {
    const leafOf = async (id: string): Promise<Credential> => {
      const leaf = (await scenarioMaterial(findScenario(id))).server.chain[0];
      if (!leaf) throw new Error(`${id} serves no certificate`);
      return leaf;
    };
    for (const [id, bits] of [
      ['rsa-512-leaf', 512],
      ['rsa-1024-leaf', 1024],
      ['dhe-1024', 2048],
    ] as const) {
      const { key, der } = await leafOf(id);
      const expected = { modulusLength: bits, publicExponent: 65537n };
      expect(key.privateKey.asymmetricKeyDetails, `${id} key`).to.deep.equal(expected);
      expect(new X509Certificate(der).publicKey.asymmetricKeyDetails, `${id} certificate`).to.deep.equal(expected);
    }
  });

  const openssl = findExecutable('openssl');
  itNeeds(
    openssl ? undefined : 'openssl is not installed',
    'writes DH parameters that openssl dhparam reads and finds ok: modp2 1024 bits with generator 2, modp14 its named 2048-bit group modp_2048',
    () => {
      const dhparam = (pem: string, ...args: string[]) => {
        const run = spawnSync(openssl as string, ['dhparam', '-noout', ...args], { input: pem, encoding: 'utf8', timeout: 10_000 });
        expect(run.error).to.equal(undefined);
        expect(run.status, run.stderr).to.equal(0);
        return `${run.stdout}${run.stderr}`; // -check reports on stderr
      };
      for (const group of ['modp2', 'modp14'] as const) {
        expect(dhparam(dhParametersPem(group), '-check').trim(), group).to.equal('DH parameters appear to be ok.');
      }
      // OpenSSL names the groups it knows (RFC 3526's, from 1536 bits up) instead of printing them.
      const modp2 = dhparam(dhParametersPem('modp2'), '-text');
      expect(modp2)
        .to.include('DH Parameters: (1024 bit)')
        .and.to.match(/G: +2 \(0x2\)/);
      const modp14 = dhparam(dhParametersPem('modp14'), '-text');
      expect(modp14).to.include('DH Parameters: (2048 bit)').and.to.include('GROUP: modp_2048');
    },
  );
});
