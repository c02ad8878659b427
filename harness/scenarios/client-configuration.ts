import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { certificate, localLeaf, once, pki as namedPki, type Credential } from '../../certs/index.ts';
import { defineScenario } from '../scenario.ts';
import { servesExpiredLeaf } from './validity.ts';

/** The error a pinning checkServerIdentity returns; Node hands it to the client as is (it is not wrapped). */
export class CertificatePinMismatch extends Error {
  override name = 'CertificatePinMismatch';
  readonly code = 'ERR_CERT_PIN_MISMATCH';
  constructor(
    readonly host: string,
    readonly fingerprint256: string,
    readonly pinned: string,
  ) {
    super(`certificate pin mismatch for ${host}: the server presented SHA-256 ${fingerprint256}, the client pins ${pinned}`);
  }
}

/** The SHA-256 fingerprint of a certificate, written the way PeerCertificate.fingerprint256 writes it (AB:CD:…). */
export function fingerprint256(credential: Credential): string {
  return new X509Certificate(credential.certPem).fingerprint256;
}

/**
 * A checkServerIdentity that pins one certificate: Node's own host name check first (a custom function replaces
 * it), then the fingerprint.
 */
export function pinCertificate(pinned: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) =>
    checkServerIdentity(host, cert) ?? (cert.fingerprint256 === pinned ? undefined : new CertificatePinMismatch(host, cert.fingerprint256, pinned));
}

/** The certificate the server had before it was renewed: the one the client of certificate-pin-mismatch still pins. */
export const previousServerCertificate = once(async () =>
  localLeaf('localhost').label('previous server certificate').validDays(-90, -1).issuedBy(await namedPki.intermediateCa()).build(),
);

export const clientConfigurationScenarios = [
  defineScenario({
    id: 'reject-unauthorized-false',
    family: 'client-configuration',
    title: 'rejectUnauthorized: false — the client accepts an expired certificate',
    cause:
      'The client was "fixed" with `rejectUnauthorized: false` (or `agent: new https.Agent({ rejectUnauthorized: ' +
      "false })`, or undici's `connect: { rejectUnauthorized: false }`). Node still verifies the chain and the " +
      'host name, but only records the verdict — socket.authorized false, authorizationError set — and carries on, ' +
      'so an expired, self-signed or attacker-made certificate are all accepted without a word.',
    fix:
      'Remove `rejectUnauthorized: false` and fix what it was hiding: renew the certificate, trust the right CA ' +
      '(`ca`), or connect by the right name.',
    expect: 'reject',
    async setup(pki) {
      // expired-leaf's server and fix, with a client that turns verification off.
      const expired = await servesExpiredLeaf(pki);
      return {
        ...expired,
        client: { ...expired.client, rejectUnauthorized: false },
        fixed: { ...expired.fixed, client: expired.client },
      };
    },
  }),
  defineScenario({
    id: 'node-tls-reject-unauthorized-0',
    family: 'client-configuration',
    title: 'NODE_TLS_REJECT_UNAUTHORIZED=0 — verification off for the whole process',
    cause:
      'The process runs with NODE_TLS_REJECT_UNAUTHORIZED=0 in its environment (a CI variable, a .env file, a ' +
      'Dockerfile line). It turns the default of `rejectUnauthorized` to false for every client in the process — ' +
      'tls, https and fetch — so the expired certificate served here is accepted. Node prints one warning on ' +
      'stderr, and nothing else says so. A client that passes `rejectUnauthorized: true` explicitly still verifies.',
    fix:
      'Unset the variable (never set it outside a throw-away debugging session) and fix the real problem: renew ' +
      'the certificate, or trust the CA with `ca` / NODE_EXTRA_CA_CERTS.',
    expect: 'reject',
    setup: servesExpiredLeaf, // expired-leaf's server, client and fix: here the variable hides the expiry
  }),
  defineScenario({
    id: 'certificate-pin-mismatch',
    family: 'client-configuration',
    title: 'checkServerIdentity pins a certificate the server no longer presents',
    cause:
      'The client pins the SHA-256 fingerprint of the server certificate in a custom `checkServerIdentity`. The ' +
      'server has since renewed its certificate (a new certificate, a new key), so the pin matches nothing and the ' +
      'function returns an Error; Node aborts the handshake with exactly that Error, code and message included. ' +
      'The chain and the host name are fine.',
    fix:
      'Update the pin before the server rotates its certificate; better, pin the public key (SPKI) or the issuing ' +
      'CA, and keep a backup pin, so that a renewal does not lock clients out.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] },
        client: { trust: [await pki.rootCa()], checkServerIdentity: pinCertificate(fingerprint256(await previousServerCertificate())) },
        fixed: { client: { trust: [await pki.rootCa()], checkServerIdentity: pinCertificate(fingerprint256(await pki.serverLeaf())) } },
      };
    },
  }),
  defineScenario({
    id: 'wrong-servername',
    family: 'client-configuration',
    title: 'The client asks for a name the server has no certificate for',
    cause:
      'The server selects its certificate by SNI: www.example.test has its own, anything else gets the default ' +
      "certificate (localhost). The client's `servername` is example.test — a typo, the apex instead of www, a " +
      'name left over from another environment — so it receives the default certificate and its host name check ' +
      'fails. The error lists the names of the certificate the client got, not those the server has.',
    fix: "Set `servername` (or the URL's host) to a name the server has a certificate for: www.example.test.",
    expect: 'reject',
    async setup(pki) {
      const www = await certificate('www.example.test').serverAuth().dns('www.example.test').issuedBy(await pki.intermediateCa()).build();
      return {
        server: {
          chain: [await pki.serverLeaf(), await pki.intermediateCa()],
          sni: { 'www.example.test': [www, await pki.intermediateCa()] },
        },
        client: { trust: [await pki.rootCa()], servername: 'example.test' },
        fixed: { client: { trust: [await pki.rootCa()], servername: 'www.example.test' } },
      };
    },
  }),
];
