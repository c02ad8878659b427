import { certificate, revocationList, type Credential, type Pki } from '../../certs/index.ts';
import { defineScenario, type ScenarioMaterial } from '../scenario.ts';

/**
 * The healthy server behind every refusal of this family, requiring a client certificate from the trusted client CA
 * (with `crl`, checked against it); the client trusts the server and presents `present` (nothing when undefined).
 * The fix: the client presents alice's certificate from the trusted client CA.
 */
async function requiringClientCertificate(pki: Pki, present: Credential | undefined, crl?: string[]): Promise<ScenarioMaterial> {
  return {
    server: {
      chain: [await pki.serverLeaf(), await pki.intermediateCa()],
      clientAuth: { trust: [await pki.clientCa()], mode: 'require', ...(crl ? { crl } : {}) },
    },
    client: { trust: [await pki.rootCa()], ...(present ? { present } : {}) },
    fixed: { client: { trust: [await pki.rootCa()], present: await pki.clientCert() } },
  };
}

export const clientCertificateScenarios = [
  defineScenario({
    id: 'missing-client-cert',
    family: 'client-certificates',
    title: 'Server requires a client certificate, client sends none',
    cause:
      'The server asks for a client certificate (mutual TLS, `requestCert` + `rejectUnauthorized`) and the client ' +
      'has none configured. In TLS 1.3 the client finishes its side of the handshake first, so the refusal arrives ' +
      'as an alert after secureConnect; in TLS 1.2 it arrives during the handshake.',
    fix: 'Give the client its certificate and key (`cert` and `key` options, or `pfx`), issued by a CA the server trusts.',
    expect: 'reject',
    setup: (pki) => requiringClientCertificate(pki, undefined),
  }),
  defineScenario({
    id: 'untrusted-client-cert',
    family: 'client-certificates',
    title: 'Client certificate issued by a CA the server does not trust',
    cause:
      'The client presents a certificate, but from a CA that is not in the server\'s `ca` list. A Node server with ' +
      '`requestCert` + `rejectUnauthorized` lets the handshake finish, then checks the certificate and destroys the ' +
      'socket without sending an alert: the client sees a bare close. In TLS 1.3 that close comes after the ' +
      "client's secureConnect; in TLS 1.2 it comes before the client's handshake completes. Only the server knows why " +
      "(tlsSocket.authorizationError), and Node's tlsClientError says just 'socket hang up'.",
    fix:
      'Present a certificate issued by a CA the server trusts, or add the issuing CA to the server\'s `ca` option. ' +
      'When the close carries no reason, read it on the server (authorizationError on the socket).',
    expect: 'reject',
    setup: async (pki) => requiringClientCertificate(pki, await pki.untrustedClientCert()),
  }),
  defineScenario({
    id: 'expired-client-cert',
    family: 'client-certificates',
    title: 'Expired client certificate',
    cause:
      "The client's certificate is issued by the CA the server trusts, but its notAfter is in the past. The server " +
      'checks validity against its own clock once the handshake is done and drops the connection without an ' +
      'alert, exactly as for an untrusted client certificate; the server sees authorizationError CERT_HAS_EXPIRED.',
    fix: 'Renew the client certificate (and automate renewal for machine identities); check the server clock too.',
    expect: 'reject',
    async setup(pki) {
      const expired = await certificate('alice').label('expired client certificate').clientAuth().validDays(-30, -1)
        .issuedBy(await pki.clientCa())
        .build();
      return requiringClientCertificate(pki, expired);
    },
  }),
  defineScenario({
    id: 'client-cert-server-auth-eku',
    family: 'client-certificates',
    title: 'Client certificate whose extendedKeyUsage allows serverAuth only',
    cause:
      'The client presents a certificate from the trusted client CA, but its extendedKeyUsage lists only ' +
      'serverAuth (a server certificate reused as a client identity). OpenSSL checks a client certificate for the ' +
      'clientAuth purpose, so verification fails with INVALID_PURPOSE and the Node server drops the connection ' +
      'without an alert.',
    fix: 'Issue the client its own certificate with extendedKeyUsage clientAuth (`extendedKeyUsage = clientAuth`).',
    expect: 'reject',
    async setup(pki) {
      const serverAuthOnly = await certificate('alice').label('serverAuth-only client certificate').serverAuth()
        .issuedBy(await pki.clientCa())
        .build();
      return requiringClientCertificate(pki, serverAuthOnly);
    },
  }),
  defineScenario({
    id: 'client-cert-requested-not-required',
    family: 'client-certificates',
    title: 'Server requests a client certificate but does not require it; the client sends none',
    cause:
      'The server has `requestCert: true` and `rejectUnauthorized: false` (client certificate optional). The ' +
      'handshake succeeds without a certificate — or with a bad one — and the request reaches the application, ' +
      'where socket.authorized is false. An application that does not check it serves unauthenticated clients. ' +
      'Nothing fails on the client: this is a server-side hole, not a client error.',
    fix:
      'Either require the certificate (`rejectUnauthorized: true` on the server), or check ' +
      '`req.socket.authorized` (and authorizationError) in the application and refuse with 401/403.',
    expect: 'accept',
    async setup(pki) {
      return {
        server: {
          chain: [await pki.serverLeaf(), await pki.intermediateCa()],
          clientAuth: { trust: [await pki.clientCa()], mode: 'request' },
        },
        client: { trust: [await pki.rootCa()] },
        fixed: {
          server: {
            chain: [await pki.serverLeaf(), await pki.intermediateCa()],
            clientAuth: { trust: [await pki.clientCa()], mode: 'require' },
          },
          client: { trust: [await pki.rootCa()], present: await pki.clientCert() },
        },
      };
    },
  }),
  defineScenario({
    id: 'revoked-client-cert',
    family: 'client-certificates',
    title: 'Revoked client certificate',
    cause:
      'The client presents a certificate from the trusted client CA, but the server checks a CRL (`crl` option) ' +
      "that lists the certificate's serial number. Verification fails with CERT_REVOKED after the handshake and " +
      'the Node server drops the connection without an alert.',
    fix: 'Issue the client a new certificate (a new serial number, ideally a new key) and retire the revoked one.',
    expect: 'reject',
    async setup(pki) {
      const clientCa = await pki.clientCa();
      const revoked = await certificate('bob').label('revoked client certificate').clientAuth().issuedBy(clientCa).build();
      // The client CA is the root of the client chain, so its CRL is the only one the check needs.
      return requiringClientCertificate(pki, revoked, [await revocationList(clientCa, [revoked])]);
    },
  }),
];
