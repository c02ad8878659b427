import { createPrivateKey, X509Certificate } from 'node:crypto';
import { generate as generateSelfSigned } from 'selfsigned';
import { certificate, credential, type Credential } from './certificate.ts';
import { once } from './memo.ts';
import { x509 } from './x509.ts';
import { EC_P256, keyPairFrom } from './keys.ts';

/** The names a healthy local server certificate carries: reachable as localhost, 127.0.0.1 and [::1]. */
export const LOCAL_NAMES = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] } as const;

const CA_LIFETIME_DAYS = 3650;

const rootCa = once(() => certificate('tls-harness Root CA').ca().validDays(-1, CA_LIFETIME_DAYS).build());

const intermediateCa = once(async () =>
  certificate('tls-harness Intermediate CA')
    .ca({ pathLength: 0 })
    .validDays(-1, CA_LIFETIME_DAYS)
    .issuedBy(await rootCa())
    .build(),
);

const untrustedRootCa = once(() => certificate('Untrusted Root CA').ca().validDays(-1, CA_LIFETIME_DAYS).build());

const untrustedIntermediateCa = once(async () =>
  certificate('Untrusted Intermediate CA')
    .ca({ pathLength: 0 })
    .validDays(-1, CA_LIFETIME_DAYS)
    .issuedBy(await untrustedRootCa())
    .build(),
);

const clientCa = once(() => certificate('tls-harness Client CA').ca().validDays(-1, CA_LIFETIME_DAYS).build());

const untrustedClientCa = once(() => certificate('Unknown Client CA').ca().validDays(-1, CA_LIFETIME_DAYS).build());

/**
 * The named PKI every scenario draws on. Each recipe is built on first use and memoized, so asking twice
 * builds once; everything lives in memory and is minted relative to the current clock.
 */
export const pki = {
  /** The harness's trust anchor: a self-signed root CA. Clients trust it via the `ca` option. */
  rootCa,

  /** The issuing CA under the root (pathLen 0); servers must send it along with their leaf. */
  intermediateCa,

  /** A healthy server certificate for localhost, 127.0.0.1 and ::1, issued by the intermediate. */
  serverLeaf: once(async () =>
    localLeaf('localhost')
      .issuedBy(await intermediateCa())
      .build(),
  ),

  /** Like serverLeaf, but its validity ended yesterday. */
  expiredLeaf: once(async () =>
    localLeaf('localhost')
      .label('expired leaf')
      .validDays(-30, -1)
      .issuedBy(await intermediateCa())
      .build(),
  ),

  /** A valid certificate for a name the client does not connect to. */
  wrongHostLeaf: once(async () =>
    certificate('wrong.host.example')
      .serverAuth()
      .dns('wrong.host.example')
      .issuedBy(await intermediateCa())
      .build(),
  ),

  /** A self-signed server certificate for localhost, made the way most tutorials make one: with `selfsigned`. */
  selfSignedLeaf: once(async () => {
    // selfsigned's default signature is SHA-1 and its default key RSA-2048 (~200 ms): ask for SHA-256 and EC.
    const pems = await generateSelfSigned([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [{ type: 2, value: 'localhost' }, ...LOCAL_NAMES.ip.map((ip) => ({ type: 7 as const, ip }))],
        },
      ],
    });
    return credentialFromEcPem('self-signed leaf', pems.cert, pems.private);
  }),

  /** A second, independent root that no client trusts, with its own intermediate and leaf. */
  untrustedRootCa,
  untrustedIntermediateCa,
  untrustedLeaf: once(async () =>
    localLeaf('localhost')
      .issuedBy(await untrustedIntermediateCa())
      .build(),
  ),

  /** The CA a server trusts for client certificates (mutual TLS), and a client certificate it issued. */
  clientCa,
  clientCert: once(async () =>
    certificate('alice')
      .clientAuth()
      .issuedBy(await clientCa())
      .build(),
  ),

  /** A client certificate from a CA the server does not trust. */
  untrustedClientCa,
  untrustedClientCert: once(async () =>
    certificate('mallory')
      .clientAuth()
      .issuedBy(await untrustedClientCa())
      .build(),
  ),
};

export type Pki = typeof pki;

/** Build every named recipe (for timing, and to fail fast on a broken recipe). */
export async function buildAll(): Promise<void> {
  await Promise.all(Object.values(pki).map((recipe: () => Promise<Credential>) => recipe()));
}

/** A server leaf for the local names; callers chain validity or issuer. */
export function localLeaf(commonName: string) {
  return certificate(commonName)
    .serverAuth()
    .dns(...LOCAL_NAMES.dns)
    .ip(...LOCAL_NAMES.ip);
}

/** A server leaf for DNS names, the first of them its CN; callers chain validity or issuer. */
export function dnsLeaf(first: string, ...more: string[]) {
  return certificate(first)
    .serverAuth()
    .dns(first, ...more);
}

/** Wrap a certificate and key made elsewhere (e.g. by `selfsigned`) as a Credential. */
export async function credentialFromEcPem(label: string, certPem: string, keyPem: string): Promise<Credential> {
  const parsed = new x509.X509Certificate(certPem);
  const key = keyPairFrom(EC_P256, createPrivateKey(keyPem), new X509Certificate(certPem).publicKey);
  return credential(label, new Uint8Array(parsed.rawData), new Uint8Array(parsed.subjectName.toArrayBuffer()), key, parsed.serialNumber);
}
