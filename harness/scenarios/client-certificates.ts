import { certificate, revocationList, type Credential, type Pki } from '../../certs/index.ts';
import {
  ALERTS,
  DROPPED_WITHOUT_ALERT,
  NGINX_CERTIFICATE_ERROR,
  NGINX_NO_CERTIFICATE,
  OK,
  alertAfterHandshake,
  alertAfterSecureConnect,
  alertInHandshake,
  nginxPage,
  fails,
  ok,
  openssl,
  perProbe,
  perServer,
  perVersion,
  secureConnection,
  tlsClientError,
  type Alert,
  type NodeExpect,
  type ServerSees,
} from '../expect.ts';
import {
  ALL_OK,
  TOOLS_DROPPED_WITHOUT_ALERT,
  TOOLS_HANDSHAKE_FAILURE,
  curl,
  pythonRaises,
  sClientFails,
  urlError,
} from '../expect-tools.ts';
import { defineScenario, fixed, pems, presents, type ScenarioMaterial } from '../scenario.ts';

/**
 * Refusing a client certificate is where servers part most. A Node server (requestCert + rejectUnauthorized) lets
 * the handshake finish, then verifies the certificate and destroys the socket without an alert: the client sees a bare
 * close and only the server knows why. openssl s_server (-Verify with -verify_return_error) lets OpenSSL verify during
 * the handshake and sends the alert that names the reason. nginx (ssl_verify_client on) completes the handshake
 * whatever the client sent and refuses the request: HTTP 400 with a page that names the reason.
 */
/** OpenSSL's words when a private key is not the one of its certificate. */
const KEY_VALUES_MISMATCH = 'error:05800074:x509 certificate routines::key values mismatch';

const SERVERS_DIFFER =
  'A Node server verifies the client certificate after the handshake and drops the connection without an alert; ' +
  'openssl s_server lets OpenSSL verify it during the handshake and sends the alert that names the reason; nginx ' +
  'completes the handshake and answers the request with HTTP 400.';

/** How each server refuses a client certificate it does not accept: `alert` is the one s_server sends. */
function refusedByServer(alert: Alert): NodeExpect {
  return perServer(SERVERS_DIFFER, {
    node: DROPPED_WITHOUT_ALERT,
    openssl: alertAfterHandshake(alert),
    nginx: nginxPage(NGINX_CERTIFICATE_ERROR),
  });
}

/** A Node server's view of a client certificate it refused: a generic 'socket hang up'; the reason is the socket's. */
function droppedAt(authorizationError: string): ServerSees {
  return tlsClientError('ECONNRESET', 'socket hang up', authorizationError);
}

/**
 * No certificate where the server requires one: OpenSSL fails the handshake on Node and s_server alike
 * (SSL_VERIFY_FAIL_IF_NO_PEER_CERT) — TLS 1.3's certificate_required alert after secureConnect, TLS 1.2's
 * handshake_failure — while nginx lets the handshake complete and answers HTTP 400.
 */
const CERTIFICATE_MISSING = perServer(
  'Node and openssl s_server leave a missing certificate to OpenSSL, which fails the handshake; nginx completes it and answers HTTP 400.',
  {
    node: perVersion(alertAfterSecureConnect(ALERTS.certificateRequired), alertInHandshake(ALERTS.handshakeFailure)),
    nginx: nginxPage(NGINX_NO_CERTIFICATE),
  },
);

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
    client: { ca: pems(await pki.rootCa()), ...(present ? presents(present) : {}) },
    fixed: { client: { ca: pems(await pki.rootCa()), ...presents(await pki.clientCert()) } },
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
    node: [
      {
        expect: CERTIFICATE_MISSING,
        server: tlsClientError('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', openssl('peer did not return a certificate')),
      },
      fixed('present the client certificate (cert + key)', {
        expect: ok({ as: 'alice' }),
        server: secureConnection(true, { peer: 'alice' }),
      }),
    ],
    tools: {
      // TLS 1.3: the certificate_required alert arrives after the client's handshake (curl: while reading, 56; Python:
      // SSLError on the read). OpenSSL 3.0 has no name for alert 116 in -state ('unknown'). TLS 1.2: handshake_failure.
      curl: perVersion(
        curl(56, 'OpenSSL SSL_read: OpenSSL/<version>: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0'),
        TOOLS_HANDSHAKE_FAILURE.curl,
      ),
      sClient: perVersion(
        sClientFails({
          alerts: ['read:fatal:unknown'],
          error: 'error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:SSL alert number 116',
          phase: 'after-secureConnect',
        }),
        TOOLS_HANDSHAKE_FAILURE.sClient,
      ),
      python: perVersion(
        pythonRaises(
          'SSLError',
          '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c)',
          'after-secureConnect',
        ),
        TOOLS_HANDSHAKE_FAILURE.python,
      ),
      // urllib: an error while urlopen opens the connection comes wrapped in URLError; one after the handshake comes from
      // reading the response, outside urlopen's wrapping.
      urllib: perVersion(
        pythonRaises('SSLError', '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c)', 'request'),
        urlError(TOOLS_HANDSHAKE_FAILURE.python),
      ),
    },
  }),
  defineScenario({
    id: 'untrusted-client-cert',
    family: 'client-certificates',
    title: 'Client certificate issued by a CA the server does not trust',
    cause:
      "The client presents a certificate, but from a CA that is not in the server's `ca` list. A Node server with " +
      '`requestCert` + `rejectUnauthorized` lets the handshake finish, then checks the certificate and destroys the ' +
      'socket without sending an alert: the client sees a bare close. In TLS 1.3 that close comes after the ' +
      "client's secureConnect; in TLS 1.2 it comes before the client's handshake completes. Only the server knows why " +
      "(tlsSocket.authorizationError), and Node's tlsClientError says just 'socket hang up'.",
    fix:
      "Present a certificate issued by a CA the server trusts, or add the issuing CA to the server's `ca` option. " +
      'When the close carries no reason, read it on the server (authorizationError on the socket).',
    expect: 'reject',
    setup: async (pki) => requiringClientCertificate(pki, await pki.untrustedClientCert()),
    node: [
      { expect: refusedByServer(ALERTS.unknownCa), server: droppedAt('UNABLE_TO_VERIFY_LEAF_SIGNATURE') },
      fixed('a client certificate from the trusted client CA', { expect: ok({ as: 'alice' }) }),
    ],
    tools: {
      ...TOOLS_DROPPED_WITHOUT_ALERT,
      // urllib: a close after the handshake comes from reading the response (http.client's RemoteDisconnected), one
      // during the handshake wrapped in URLError.
      urllib: perVersion(
        pythonRaises('RemoteDisconnected', 'Remote end closed connection without response', 'request'),
        urlError(pythonRaises('SSLEOFError', '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c)')),
      ),
    },
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
      const expired = await certificate('alice')
        .label('expired client certificate')
        .clientAuth()
        .validDays(-30, -1)
        .issuedBy(await pki.clientCa())
        .build();
      return requiringClientCertificate(pki, expired);
    },
    node: [
      { expect: refusedByServer(ALERTS.certificateExpired), server: droppedAt('CERT_HAS_EXPIRED') },
      fixed('a renewed client certificate', { expect: ok({ as: 'alice' }) }),
    ],
    tools: TOOLS_DROPPED_WITHOUT_ALERT,
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
      const serverAuthOnly = await certificate('alice')
        .label('serverAuth-only client certificate')
        .serverAuth()
        .issuedBy(await pki.clientCa())
        .build();
      return requiringClientCertificate(pki, serverAuthOnly);
    },
    node: [
      // OpenSSL's alert for INVALID_PURPOSE (ssl_verify_alarm_type) is unsupported_certificate.
      { expect: refusedByServer(ALERTS.unsupportedCertificate), server: droppedAt('INVALID_PURPOSE') },
      fixed('a client certificate with extendedKeyUsage clientAuth', { expect: ok({ as: 'alice' }) }),
    ],
    tools: TOOLS_DROPPED_WITHOUT_ALERT,
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
        client: { ca: pems(await pki.rootCa()) },
        fixed: {
          server: {
            chain: [await pki.serverLeaf(), await pki.intermediateCa()],
            clientAuth: { trust: [await pki.clientCa()], mode: 'require' },
          },
          client: { ca: pems(await pki.rootCa()), ...presents(await pki.clientCert()) },
        },
        credentials: { mallory: await pki.untrustedClientCert() },
      };
    },
    node: [
      {
        title: 'without a client certificate',
        expect: OK,
        // Node has no separate code for "no certificate sent": the missing issuer of the missing certificate.
        server: secureConnection(false, { authorizationError: 'UNABLE_TO_GET_ISSUER_CERT' }),
      },
      {
        title: "with an untrusted client certificate ('mallory'): the application gets its CN, the server's view says why not",
        client: (material) => presents(material.credentials?.mallory as Credential),
        expect: ok({ as: 'mallory' }),
        server: secureConnection(false, { authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', peer: 'mallory' }),
      },
      fixed('the server requires the certificate (rejectUnauthorized: true)', { expect: ok({ as: 'alice' }) }),
      // Exactly as in missing-client-cert (nginx: its 400 page).
      fixed('the server requires the certificate (rejectUnauthorized: true): a client without one is refused', {
        client: { cert: undefined, key: undefined },
        probes: ['tls.connect'],
        expect: CERTIFICATE_MISSING,
      }),
    ],
    tools: ALL_OK,
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
    node: [
      { expect: refusedByServer(ALERTS.certificateRevoked), server: droppedAt('CERT_REVOKED') },
      fixed('a new, unrevoked client certificate (same server, same CRL)', { expect: ok({ as: 'alice' }) }),
    ],
    tools: TOOLS_DROPPED_WITHOUT_ALERT,
  }),
  defineScenario({
    id: 'client-key-mismatch',
    family: 'client-certificates',
    title: "The client's certificate and key do not belong together",
    cause:
      'The client is given its certificate and the private key of another one (the old key after a renewal, files from ' +
      'two environments, the wrong file from a bundle). OpenSSL checks that the key matches the certificate when the ' +
      "client's secure context is built, so tls.connect and https.request throw before they connect, and fetch rejects " +
      "with the same error as the cause of 'fetch failed'. The server never sees a connection.",
    fix:
      'Give the client the key its certificate was issued for (compare `openssl x509 -pubkey -noout` with ' +
      '`openssl pkey -pubout`), or get a certificate issued for the key you have.',
    expect: 'reject',
    async setup(pki) {
      const other = await certificate('alice')
        .label('another client certificate')
        .clientAuth()
        .issuedBy(await pki.clientCa())
        .build();
      const material = await requiringClientCertificate(pki, await pki.clientCert());
      return { ...material, client: { ...material.client, key: other.keyPem } };
    },
    node: [
      {
        expect: perProbe({
          'tls.connect': fails('ERR_OSSL_X509_KEY_VALUES_MISMATCH', KEY_VALUES_MISMATCH, { phase: 'call' }),
          'https.request': fails('ERR_OSSL_X509_KEY_VALUES_MISMATCH', KEY_VALUES_MISMATCH, { phase: 'call' }),
          fetch: fails('ERR_OSSL_X509_KEY_VALUES_MISMATCH', KEY_VALUES_MISMATCH),
        }),
      },
      fixed('the key that belongs to the certificate', { expect: ok({ as: 'alice' }) }),
    ],
    // Each tool refuses the pair before it connects, as Node does: curl cannot load the key, s_client and Python check it.
    tools: {
      curl: curl(58, "unable to set private key file: '<dir>/key.pem' type PEM"),
      sClient: {
        kind: 's_client',
        error: 'error:05800074:x509 certificate routines:X509_check_private_key:key values mismatch',
        phase: 'call',
      },
      python: pythonRaises('SSLError', '[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c)', 'call'),
    },
  }),
];
