import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { rsaKeyInPool, rsaKeySync } from './rsa.ts';

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
  spki: ArrayBuffer;
  /** SHA-1 of the SPKI, hex: the subject/authority key identifier of certificates for this key. */
  keyId: string;
}

/**
 * A fresh key pair. Synchronous node:crypto on purpose: WebCrypto's async jobs each cost an event-loop round trip
 * through the thread pool, which dominated the PKI build time on a busy 2-core machine.
 */
export function generateKeyPair(spec: KeySpec = EC_P256): KeyPair {
  const { privateKey, publicKey } = spec.type === 'ec' ? generateKeyPairSync('ec', { namedCurve: spec.curve }) : rsaKeySync(spec.bits);
  return keyPairFrom(spec, privateKey, publicKey);
}

/**
 * Like generateKeyPair, but an RSA key's primes are searched on the libuv thread pool (rsa.ts), where they overlap
 * with the rest of the PKI instead of blocking it. EC stays synchronous (0.1 ms).
 */
export async function newKeyPair(spec: KeySpec = EC_P256): Promise<KeyPair> {
  if (spec.type === 'ec') return generateKeyPair(spec);
  const { privateKey, publicKey } = await rsaKeyInPool(spec.bits);
  return keyPairFrom(spec, privateKey, publicKey);
}

export function keyPairFrom(spec: KeySpec, privateKey: KeyObject, publicKey: KeyObject): KeyPair {
  const spki = spec.type === 'ec' ? ecSubjectPublicKeyInfo(spec.curve, publicKey) : exportedSpki(publicKey);
  let privateKeyPem: string | undefined;
  return {
    spec,
    privateKey,
    publicKey,
    // Only the keys a server or client presents are ever exported: most are CA keys that only sign.
    get privateKeyPem() {
      return (privateKeyPem ??= privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    },
    spki,
    keyId: keyIdentifier(spki),
  };
}

function exportedSpki(publicKey: KeyObject): ArrayBuffer {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

/**
 * DER SubjectPublicKeyInfo headers of the named curves, up to the BIT STRING's unused-bits byte: SEQUENCE {
 * AlgorithmIdentifier { id-ecPublicKey, namedCurve }, BIT STRING }, followed by the uncompressed point 04 || x || y.
 */
const EC_SPKI_HEADERS: Record<Extract<KeySpec, { type: 'ec' }>['curve'], { header: Buffer; coordinateBytes: number }> = {
  'P-256': { header: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), coordinateBytes: 32 },
  'P-384': { header: Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'), coordinateBytes: 48 },
};

/**
 * The SPKI of an EC public key, from its JWK coordinates. Byte for byte what `export({ type: 'spki' })` returns
 * (a spec holds the two equal), at a quarter of its cost: OpenSSL's SPKI encoder took ~0.12 ms a key, more than
 * generating the key itself.
 */
function ecSubjectPublicKeyInfo(curve: Extract<KeySpec, { type: 'ec' }>['curve'], publicKey: KeyObject): ArrayBuffer {
  const { header, coordinateBytes } = EC_SPKI_HEADERS[curve];
  const { x, y } = publicKey.export({ format: 'jwk' });
  const coordinate = (value: string | undefined) => {
    const bytes = Buffer.from(value ?? '', 'base64url');
    if (bytes.length !== coordinateBytes) throw new Error(`${curve} public key: a coordinate of ${bytes.length} bytes`);
    return bytes;
  };
  const spki = new Uint8Array(header.length + 1 + 2 * coordinateBytes);
  spki.set(header, 0);
  spki[header.length] = 0x04; // uncompressed point
  spki.set(coordinate(x), header.length + 1);
  spki.set(coordinate(y), header.length + 1 + coordinateBytes);
  return spki.buffer;
}

export function keyIdentifier(spki: ArrayBuffer): string {
  return createHash('sha1').update(new Uint8Array(spki)).digest('hex');
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
