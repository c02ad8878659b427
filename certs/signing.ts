import { sign as signBytes } from 'node:crypto';
import * as der from './der.ts';
import type { KeyPair, SignatureHash } from './keys.ts';

const SIGNATURE_OIDS: Record<KeyPair['spec']['type'], Record<SignatureHash, string>> = {
  ec: { 'SHA-1': '1.2.840.10045.4.1', 'SHA-256': '1.2.840.10045.4.3.2', 'SHA-384': '1.2.840.10045.4.3.3' },
  rsa: { 'SHA-1': '1.2.840.113549.1.1.5', 'SHA-256': '1.2.840.113549.1.1.11', 'SHA-384': '1.2.840.113549.1.1.12' },
};

/** The DER AlgorithmIdentifier of a signature by `signer` with `hash` (RSA carries NULL parameters, ECDSA none). */
export function signatureAlgorithm(signer: KeyPair, hash: SignatureHash): Uint8Array {
  const algorithm = der.oid(SIGNATURE_OIDS[signer.spec.type][hash]);
  return signer.spec.type === 'rsa' ? der.sequence(algorithm, der.nullValue()) : der.sequence(algorithm);
}

/** Sign DER bytes (ECDSA signatures DER-encoded, as X.509 wants them). */
export function sign(data: Uint8Array, signer: KeyPair, hash: SignatureHash): Uint8Array {
  return signBytes(hash.replace('-', '').toLowerCase(), data, { key: signer.privateKey, dsaEncoding: 'der' });
}
