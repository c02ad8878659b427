import { createHash, generateKeyPair as generateKeyPairCallback, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/** The key algorithms the PKI can mint. EC P-256 is the default because it is ~500x cheaper to generate than RSA-2048. */
export type KeySpec = { type: 'ec'; curve: 'P-256' | 'P-384' } | { type: 'rsa'; bits: number };

export const EC_P256: KeySpec = { type: 'ec', curve: 'P-256' };

export type SignatureHash = 'SHA-1' | 'SHA-256' | 'SHA-384';

export interface KeyPair {
  spec: KeySpec;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** PKCS#8 PEM of the private key, as `tls.createSecureContext({ key })` takes it. */
  readonly privateKeyPem: string;
  /** DER SubjectPublicKeyInfo, as it goes into a certificate. */
  spki: Uint8Array;
  /** SHA-1 of the SPKI, hex: the subject/authority key identifier of certificates for this key. */
  keyId: string;
}

/** RSA keys all use the usual public exponent, F4 = 65537. */
const RSA_PUBLIC_EXPONENT = 0x10001;

const generateKeyPairInPool = promisify(generateKeyPairCallback);

/** A fresh key pair, generated on the calling thread. */
export function generateKeyPair(spec: KeySpec = EC_P256): KeyPair {
  const { privateKey, publicKey } =
    spec.type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: spec.curve })
      : generateKeyPairSync('rsa', { modulusLength: spec.bits, publicExponent: RSA_PUBLIC_EXPONENT });
  return keyPairFrom(spec, privateKey, publicKey);
}

/**
 * A fresh key pair. An RSA key is generated on the libuv thread pool: RSA-2048 takes 100–200 ms of CPU (OpenSSL 3
 * follows FIPS 186-4), which there overlaps with the rest of the PKI instead of blocking it. An EC key takes a
 * fraction of a millisecond, less than a round trip to the pool, so it is generated in place.
 */
export async function newKeyPair(spec: KeySpec = EC_P256): Promise<KeyPair> {
  if (spec.type === 'ec') return generateKeyPair(spec);
  const { privateKey, publicKey } = await generateKeyPairInPool('rsa', { modulusLength: spec.bits, publicExponent: RSA_PUBLIC_EXPONENT });
  return keyPairFrom(spec, privateKey, publicKey);
}

export function keyPairFrom(spec: KeySpec, privateKey: KeyObject, publicKey: KeyObject): KeyPair {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  let privateKeyPem: string | undefined;
  return {
    spec,
    privateKey,
    publicKey,
    // Exported when asked for: most keys are CA keys that only sign, and their PEM is never needed.
    get privateKeyPem() {
      return (privateKeyPem ??= privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    },
    spki,
    keyId: keyIdentifier(spki),
  };
}

export function keyIdentifier(spki: Uint8Array): string {
  return createHash('sha1').update(spki).digest('hex');
}

export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The PEM blocks labelled `label` in `text` (e.g. every certificate of a bundle), each ending in a newline. */
export function pemBlocks(text: string, label = 'CERTIFICATE'): string[] {
  const block = new RegExp(`-----BEGIN ${label}-----\\r?\\n[\\s\\S]*?-----END ${label}-----\\r?\\n?`, 'g');
  return (text.match(block) ?? []).map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`));
}
