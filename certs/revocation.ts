import { x509 } from './x509.ts';
import { signingAlgorithm } from './keys.ts';
import type { Credential } from './certificate.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A CRL signed by `issuer` that lists `revoked`, valid from yesterday for a week, as PEM.
 * Encoded with the standard `X509 CRL` label: the library's own PEM header is rejected by OpenSSL.
 */
export async function revocationList(issuer: Credential, revoked: Credential[] = []): Promise<string> {
  const now = Date.now();
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate: new Date(now - DAY_MS),
    nextUpdate: new Date(now + 7 * DAY_MS),
    entries: revoked.map((credential) => ({
      serialNumber: credential.serialNumber,
      revocationDate: new Date(now - DAY_MS),
      reason: x509.X509CrlReason.keyCompromise,
    })),
    signingKey: issuer.key.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.key.spec, 'SHA-256'),
    extensions: [new x509.AuthorityKeyIdentifierExtension(issuer.key.keyId)],
  });
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}
