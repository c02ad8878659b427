import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { certificate, localLeaf, once, pki as namedPki, type Credential } from '../../certs/index.ts';
import { OK, altnameInvalid, fails, ok } from '../expect.ts';
import { certificateProblem, curl, nameMismatch } from '../expect-tools.ts';
import { defineScenario, fixed, pems } from '../scenario.ts';
import { CERTIFICATE_HAS_EXPIRED, servesExpiredLeaf } from './validity.ts';

/** curl's `--pinnedpubkey sha256//<base64 SHA-256 of the SPKI>` for a certificate. */
function pinnedPublicKey(certPem: string): string {
  const spki = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
}

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
    checkServerIdentity(host, cert) ??
    (cert.fingerprint256 === pinned ? undefined : new CertificatePinMismatch(host, cert.fingerprint256, pinned));
}

/** The certificate the server had before it was renewed: the one the client of certificate-pin-mismatch still pins. */
export const previousServerCertificate = once(async () =>
  localLeaf('localhost')
    .label('previous server certificate')
    .validDays(-90, -1)
    .issuedBy(await namedPki.intermediateCa())
    .build(),
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
    node: [
      // tls.connect and https.request still record the verdict (socket.authorized false, authorizationError) and
      // ignore it; fetch has no socket, so not even that is visible.
      { expect: ok({ unverified: 'CERT_HAS_EXPIRED' }) },
      {
        title: 'what it hides: with rejectUnauthorized: true (the default) the same endpoint is refused',
        client: { rejectUnauthorized: true },
        expect: CERTIFICATE_HAS_EXPIRED,
      },
      fixed('verification on, and a renewed certificate'),
    ],
    // Verification off — curl -k, s_client without -verify_return_error, Python CERT_NONE without check_hostname —
    // and the expired certificate is accepted, as with rejectUnauthorized: false. Only s_client still says why.
    tools: { curl: OK, sClient: ok({ verify: '10 (certificate has expired)' }), python: OK },
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
    // expired-leaf's server and fix; the client's process has the variable, which hides the expiry.
    async setup(pki) {
      const expired = await servesExpiredLeaf(pki);
      return { ...expired, client: { ...expired.client, env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } } };
    },
    // The variable is read at start-up: these clients run in a fresh Node process that has it (stderr: its warning).
    node: [
      { expect: ok({ unverified: 'CERT_HAS_EXPIRED' }) },
      {
        title: 'a client that passes rejectUnauthorized: true itself still verifies',
        client: { rejectUnauthorized: true },
        expect: CERTIFICATE_HAS_EXPIRED,
      },
      {
        title: 'fix: without the variable (this process), the expired certificate is refused',
        client: { env: undefined },
        expect: CERTIFICATE_HAS_EXPIRED,
      },
      fixed('without the variable (this process), a renewed certificate is accepted', { client: { env: undefined } }),
    ],
    // A Node setting, ignored by all three (their processes get the variable all the same).
    tools: certificateProblem(10, 'certificate has expired', 'certificate expired'),
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
        client: { ca: pems(await pki.rootCa()), checkServerIdentity: pinCertificate(fingerprint256(await previousServerCertificate())) },
        fixed: { client: { ca: pems(await pki.rootCa()), checkServerIdentity: pinCertificate(fingerprint256(await pki.serverLeaf())) } },
      };
    },
    node: [
      // Exactly the Error the custom checkServerIdentity returned: Node does not wrap it.
      {
        expect: fails('ERR_CERT_PIN_MISMATCH', {
          fingerprinted:
            'certificate pin mismatch for localhost: the server presented SHA-256 <fingerprint>, the client pins <fingerprint>',
        }),
      },
      fixed('pin the certificate the server presents now'),
    ],
    tools: {
      curl: curl(90, 'SSL: public key does not match pinned public key'),
      // Node's pin is a checkServerIdentity callback. curl's counterpart pins the public key (--pinnedpubkey): the
      // previous certificate's key, then (the fix) the current one's.
      counterparts: {
        curl: {
          replaces: ['identity-callback'],
          says: '--pinnedpubkey for the pinning checkServerIdentity',
          client: async (variant) => ({
            pinnedPublicKey: pinnedPublicKey(
              (variant === 'fixed' ? await namedPki.serverLeaf() : await previousServerCertificate()).certPem,
            ),
          }),
        },
      },
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
      const www = await certificate('www.example.test')
        .serverAuth()
        .dns('www.example.test')
        .issuedBy(await pki.intermediateCa())
        .build();
      return {
        server: {
          chain: [await pki.serverLeaf(), await pki.intermediateCa()],
          sni: { 'www.example.test': [www, await pki.intermediateCa()] },
        },
        client: { ca: pems(await pki.rootCa()), servername: 'example.test' },
        fixed: { client: { ca: pems(await pki.rootCa()), servername: 'www.example.test' } },
      };
    },
    node: [
      // The names of the server's *default* certificate, which is what a name without its own certificate gets.
      {
        expect: altnameInvalid(
          "Host: example.test. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
        ),
      },
      fixed('servername www.example.test'),
    ],
    tools: nameMismatch('example.test'),
  }),
];
