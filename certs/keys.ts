import { createHash, webcrypto } from 'node:crypto';

/** The key algorithms the PKI can mint. EC P-256 is the default because it is ~1000x cheaper to generate than RSA. */
export type KeySpec = { type: 'ec'; curve: 'P-256' | 'P-384' } | { type: 'rsa'; bits: number };

export const EC_P256: KeySpec = { type: 'ec', curve: 'P-256' };

export type SignatureHash = 'SHA-1' | 'SHA-256' | 'SHA-384';

export interface KeyPair {
  spec: KeySpec;
  keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM of the private key, as `tls.createSecureContext({ key })` takes it. */
  privateKeyPem: string;
  /** DER SubjectPublicKeyInfo. Handing the generator DER instead of a CryptoKey saves it ~2 ms of re-export per certificate. */
  spki: ArrayBuffer;
  /** SHA-1 of the SPKI, hex: the subject/authority key identifier of certificates for this key. */
  keyId: string;
}

export async function generateKeyPair(spec: KeySpec = EC_P256): Promise<KeyPair> {
  const keys =
    spec.type === 'ec'
      ? await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: spec.curve }, true, ['sign', 'verify'])
      : await webcrypto.subtle.generateKey(
          {
            name: 'RSASSA-PKCS1-v1_5',
            modulusLength: spec.bits,
            publicExponent: new Uint8Array([1, 0, 1]),
            hash: 'SHA-256',
          },
          true,
          ['sign', 'verify'],
        );
  const [pkcs8, spki] = await Promise.all([
    webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
    webcrypto.subtle.exportKey('spki', keys.publicKey),
  ]);
  return { spec, keys, privateKeyPem: toPem(new Uint8Array(pkcs8), 'PRIVATE KEY'), spki, keyId: keyIdentifier(spki) };
}

export function keyIdentifier(spki: ArrayBuffer): string {
  return createHash('sha1').update(new Uint8Array(spki)).digest('hex');
}

/** The WebCrypto algorithm that signs with this key and hash. */
export function signingAlgorithm(spec: KeySpec, hash: SignatureHash): webcrypto.EcdsaParams | webcrypto.Algorithm {
  return spec.type === 'ec' ? { name: 'ECDSA', hash } : ({ name: 'RSASSA-PKCS1-v1_5', hash } as webcrypto.Algorithm);
}

export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
