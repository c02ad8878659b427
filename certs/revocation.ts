import * as der from './der.ts';
import { toPem } from './keys.ts';
import { signatureAlgorithm, sign } from './signing.ts';
import type { Credential } from './certificate.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A CRL signed by `issuer` that lists `revoked`, valid from yesterday for a week, as PEM.
 * `validity` moves thisUpdate/nextUpdate, in days relative to now (e.g. `{ fromDays: -14, toDays: -7 }`: expired).
 * Unlike a certificate, a CRL is not parsed back here: node:crypto has no CRL parser. OpenSSL reads each one in the
 * revocation scenarios' handshakes (`crl` option of tls.createSecureContext).
 */
export async function revocationList(
  issuer: Credential,
  revoked: Credential[] = [],
  validity: { fromDays?: number; toDays?: number } = {},
): Promise<string> {
  const now = Date.now();
  const { fromDays = -1, toDays = 7 } = validity;
  const algorithm = signatureAlgorithm(issuer.key, 'SHA-256');
  const entries = revoked.map((credential) =>
    der.sequence(der.unsignedInteger(Buffer.from(credential.serialNumber, 'hex')), der.time(new Date(now - DAY_MS))),
  );
  const authorityKeyIdentifier = der.sequence(
    der.oid('2.5.29.35'),
    der.octetString(der.sequence(der.implicit(0, Buffer.from(issuer.key.keyId, 'hex')))),
  );
  const tbs = der.sequence(
    der.smallInteger(1), // v2
    algorithm,
    issuer.subjectDer,
    der.time(new Date(now + fromDays * DAY_MS)),
    der.time(new Date(now + toDays * DAY_MS)),
    ...(entries.length > 0 ? [der.sequence(...entries)] : []),
    der.explicit(0, der.sequence(authorityKeyIdentifier)),
  );
  return toPem(der.sequence(tbs, algorithm, der.bitString(sign(tbs, issuer.key, 'SHA-256'))), 'X509 CRL');
}
