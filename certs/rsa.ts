import { createPrivateKey, createPublicKey, generatePrime, generatePrimeSync, type KeyObject } from 'node:crypto';

/**
 * RSA keys assembled from two primes that `crypto.generatePrime` finds, the way OpenSSL 1.1.1 made them: n = p·q,
 * e = 65537, d = e⁻¹ mod λ(n), and the CRT parameters.
 *
 * Why not `generateKeyPair('rsa')`: OpenSSL 3 generates 2048-bit and larger keys by FIPS 186-4 (auxiliary primes,
 * more Miller-Rabin rounds). Measured on the 2-core CI machine, 20 runs each: 150 ms median and up to 308 ms for
 * RSA-2048, against 39 ms median, 90 ms at most, for two 1024-bit primes searched in parallel on the thread pool.
 * That prime search was the longest step of the whole PKI. The keys are test fixtures: specs/pki.spec.ts puts them
 * through OpenSSL's own key check, and the dhe-1024, rsa-512 and rsa-1024 scenarios sign handshakes with them.
 */
export interface RsaKeyObjects {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const PUBLIC_EXPONENT = 65537n;

/** Prime pairs whose product falls short of `bits` or shares a factor with e are drawn again, at most this often. */
const MAX_DRAWS = 16;

/** An RSA key of `bits` (even) from two primes searched on the libuv thread pool, in parallel. */
export async function rsaKeyInPool(bits: number): Promise<RsaKeyObjects> {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const [p, q] = await Promise.all([primeInPool(bits / 2), primeInPool(bits / 2)]);
    const key = rsaKeyFromPrimes(bits, p, q);
    if (key) return key;
  }
  throw new Error(`no RSA-${bits} key after ${MAX_DRAWS} prime pairs`);
}

/** rsaKeyInPool, on the calling thread. */
export function rsaKeySync(bits: number): RsaKeyObjects {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const key = rsaKeyFromPrimes(bits, generatePrimeSync(bits / 2, { bigint: true }), generatePrimeSync(bits / 2, { bigint: true }));
    if (key) return key;
  }
  throw new Error(`no RSA-${bits} key after ${MAX_DRAWS} prime pairs`);
}

function primeInPool(bits: number): Promise<bigint> {
  return new Promise((resolve, reject) =>
    generatePrime(bits, { bigint: true }, (error, prime) => (error ? reject(error) : resolve(prime))),
  );
}

/** The key for p and q, or undefined when they cannot make an RSA-`bits` key with e = 65537. */
export function rsaKeyFromPrimes(bits: number, p: bigint, q: bigint): RsaKeyObjects | undefined {
  const n = p * q;
  if (p === q || n.toString(2).length !== bits) return undefined;
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  if (gcd(PUBLIC_EXPONENT, lambda) !== 1n) return undefined;
  const d = modularInverse(PUBLIC_EXPONENT, lambda);
  const privateKey = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'RSA',
      n: base64url(n),
      e: base64url(PUBLIC_EXPONENT),
      d: base64url(d),
      p: base64url(p),
      q: base64url(q),
      dp: base64url(d % (p - 1n)),
      dq: base64url(d % (q - 1n)),
      qi: base64url(modularInverse(q, p)),
    },
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** x with a·x ≡ 1 (mod m), for a coprime to m (extended Euclid). */
function modularInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new Error('not invertible');
  return ((oldS % m) + m) % m;
}

/** A non-negative integer as JWK's base64urlUInt: big-endian, no leading zero bytes. */
function base64url(value: bigint): string {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
}
