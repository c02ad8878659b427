import type { SecureVersion } from 'node:tls';
import { expect } from 'chai';
import { pki } from '../certs/index.ts';
import { PROBE_NAMES, type Endpoint } from '../harness/index.ts';
import { TLS_VERSIONS, only } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { SERVER_SOFTWARE } from './support/backend.ts';
import { expectSuccess, itFails, itSucceedsForEveryProbe, opensslError, type ExpectedFailure } from './support/expectations.ts';
import {
  CERTIFICATE_ERROR,
  CERTIFICATE_EXPIRED,
  CERTIFICATE_REQUIRED,
  CERTIFICATE_REVOKED,
  HANDSHAKE_FAILURE,
  NO_CERTIFICATE_SENT,
  UNKNOWN_CA,
  UNSUPPORTED_CERTIFICATE,
  alertFor,
  alertInHandshake,
  droppedWithoutAlert,
  itGetsNginxErrorPage,
  itGetsNginxErrorPageForEveryProbe,
  type Alert,
} from './support/refusals.ts';

describe('client certificates', () => {
  describe('missing-client-cert: the server requires a client certificate and the client sends none', () => {
    // What you see: TLS 1.3 — ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, *after* secureConnect: the client has
    // finished its side of the handshake before the server judges its (absent) certificate. TLS 1.2 — the
    // handshake-failure alert during the handshake. fetch over TLS 1.3 never reads the alert: it reports
    // UND_ERR_SOCKET 'other side closed'.
    // Why: the server has requestCert + rejectUnauthorized (mutual TLS); a client without `cert`/`key` has
    // nothing to send, and the server's OpenSSL aborts the handshake.
    // Fix: give the client its certificate and key (`cert` + `key`, or `pfx`) from a CA the server trusts.
    // Servers differ (TLS_HARNESS_SERVER): openssl s_server (-Verify) refuses exactly as a Node server does — both
    // let OpenSSL fail the handshake when no certificate comes. nginx (`ssl_verify_client on`) lets the handshake
    // complete and answers the request with HTTP 400 'No required SSL certificate was sent'.
    const broken = useEndpoint('missing-client-cert');
    const fixed = useEndpoint('missing-client-cert', { fixed: true });

    if (SERVER_SOFTWARE === 'nginx') {
      for (const version of TLS_VERSIONS) {
        describe(`over ${version}`, () => itGetsNginxErrorPageForEveryProbe(broken, version, NO_CERTIFICATE_SENT));
      }
    } else {
      describe('over TLSv1.3', () => {
        // The certificate_required alert arrives after secureConnect; undici sees the server close the socket (end)
        // before it reads the alert, and reports the close (alertFor).
        for (const probe of PROBE_NAMES) itFails(broken, probe, alertFor(probe, 'TLSv1.3', CERTIFICATE_REQUIRED), { version: 'TLSv1.3' });
      });

      describe('over TLSv1.2', () => {
        // The server's handshake_failure alert; https.request, which has written its request into the handshake,
        // reports it as that write's EPROTO.
        for (const probe of PROBE_NAMES) itFails(broken, probe, alertInHandshake(probe, HANDSHAKE_FAILURE), { version: 'TLSv1.2' });
      });
    }

    for (const version of TLS_VERSIONS) {
      it(`the server's view over ${version}: tlsClientError ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE`, async () => {
        const outcome = await broken().probe('tls.connect', only(version));
        const event = await broken().serverView(outcome);
        expect(event).to.deep.include({ kind: 'tls-client-error', code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
        expect(event.kind === 'tls-client-error' && event.message).to.match(opensslError('peer did not return a certificate'));
      });

      describe(`fix over ${version}: present the client certificate (cert + key)`, () => {
        itSucceedsForEveryProbe(fixed, { version, clientCommonName: 'alice' });
        it("the server's view: secureConnection with authorized === true and the client's subject CN=alice", async () => {
          const outcome = await fixed().probe('tls.connect', only(version));
          expect(await fixed().serverView(outcome)).to.deep.equal({
            kind: 'secure',
            protocol: version,
            authorized: true,
            authorizationError: undefined,
            peerCommonName: 'alice',
            clientPort: outcome.localPort,
          });
        });
      });
    }
  });
  describe('untrusted-client-cert: the client certificate comes from a CA the server does not trust', () => {
    // What you see: no TLS error at all, just a close. TLS 1.3: the handshake completes (secureConnect), then the
    // connection ends — tls.connect reads no response, https says ECONNRESET 'socket hang up', fetch says
    // UND_ERR_SOCKET 'other side closed'. TLS 1.2: ECONNRESET 'Client network socket disconnected before secure
    // TLS connection was established' from every client.
    // Why: a Node server with requestCert + rejectUnauthorized verifies the client certificate after the handshake
    // and destroys the socket without an alert, so the reason (UNABLE_TO_VERIFY_LEAF_SIGNATURE: the issuer is not
    // in the server's `ca`) exists only on the server, as the socket's authorizationError.
    // Fix: present a certificate from a CA the server trusts (or add the client's CA to the server's `ca`).
    // Servers differ (TLS_HARNESS_SERVER): openssl s_server (-verify_return_error) fails the handshake with the
    // alert `unknown ca` (48); nginx completes it and answers HTTP 400 'The SSL certificate error'.
    const broken = useEndpoint('untrusted-client-cert');
    const fixed = useEndpoint('untrusted-client-cert', { fixed: true });
    itRefusesTheCertificate(broken, {
      authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      alert: UNKNOWN_CA,
    });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: a client certificate from the trusted client CA`, () =>
        itSucceedsForEveryProbe(fixed, { version, clientCommonName: 'alice' }));
    }
  });

  describe('expired-client-cert: the client certificate has expired', () => {
    // What you see: the same bare close as for an untrusted client certificate (see above) — no error names the
    // expiry on the client.
    // Why: the server checks the client certificate's validity against its clock after the handshake, finds
    // notAfter in the past (CERT_HAS_EXPIRED) and destroys the socket without an alert.
    // Fix: renew the client certificate.
    // Servers differ: openssl s_server sends the alert `certificate expired` (45); nginx answers HTTP 400 'The SSL
    // certificate error'.
    const broken = useEndpoint('expired-client-cert');
    const fixed = useEndpoint('expired-client-cert', { fixed: true });
    itRefusesTheCertificate(broken, {
      authorizationError: 'CERT_HAS_EXPIRED',
      alert: CERTIFICATE_EXPIRED,
    });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: a renewed client certificate`, () =>
        itSucceedsForEveryProbe(fixed, { version, clientCommonName: 'alice' }));
    }
  });

  describe('client-cert-server-auth-eku: the client certificate is for serverAuth only', () => {
    // What you see: the same bare close as for an untrusted client certificate (see above).
    // Why: the certificate is from the trusted client CA, but its extendedKeyUsage says serverAuth only; OpenSSL
    // verifies client certificates for the clientAuth purpose, so the server's verification fails with
    // INVALID_PURPOSE and the socket is destroyed without an alert.
    // Fix: issue the client a certificate with extendedKeyUsage clientAuth.
    // Servers differ: openssl s_server sends the alert `unsupported certificate` (43), OpenSSL's alert for
    // INVALID_PURPOSE; nginx answers HTTP 400 'The SSL certificate error'.
    const broken = useEndpoint('client-cert-server-auth-eku');
    const fixed = useEndpoint('client-cert-server-auth-eku', { fixed: true });
    itRefusesTheCertificate(broken, {
      authorizationError: 'INVALID_PURPOSE',
      alert: UNSUPPORTED_CERTIFICATE,
    });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: a client certificate with extendedKeyUsage clientAuth`, () =>
        itSucceedsForEveryProbe(fixed, { version, clientCommonName: 'alice' }));
    }
  });

  describe('revoked-client-cert: the server checks a CRL that lists the client certificate', () => {
    // What you see: the same bare close as for an untrusted client certificate (see above).
    // Why: the server has a CRL from the client CA (`crl` option) listing the certificate's serial number, so its
    // verification fails with CERT_REVOKED and it destroys the socket without an alert.
    // Fix: issue the client a new certificate; the CRL stays in place and the new certificate passes it.
    // Servers differ: openssl s_server (-crl_check_all) sends the alert `certificate revoked` (44); nginx
    // (`ssl_crl`) answers HTTP 400 'The SSL certificate error'.
    const broken = useEndpoint('revoked-client-cert');
    const fixed = useEndpoint('revoked-client-cert', { fixed: true });
    itRefusesTheCertificate(broken, {
      authorizationError: 'CERT_REVOKED',
      alert: CERTIFICATE_REVOKED,
    });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: a new, unrevoked client certificate (same server, same CRL)`, () =>
        itSucceedsForEveryProbe(fixed, { version, clientCommonName: 'alice' }));
    }
  });

  describe('client-cert-requested-not-required: the server asks for a certificate but lets the client in without one', () => {
    // What you see: nothing fails. Every client gets HTTP 200 without a certificate — or with one from a CA the
    // server does not trust, whose CN even reaches the application.
    // Why: `requestCert: true` with `rejectUnauthorized: false` makes the client certificate optional: the
    // handshake succeeds whatever the client sends, and only socket.authorized (false) and authorizationError tell
    // the application. One that does not check them serves unauthenticated clients.
    // Fix: require the certificate (`rejectUnauthorized: true`), or check `req.socket.authorized` and refuse.
    const open = useEndpoint('client-cert-requested-not-required');
    const required = useEndpoint('client-cert-requested-not-required', { fixed: true });
    const withoutCertificate = (version: SecureVersion): ExpectedFailure =>
      version === 'TLSv1.3'
        ? { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', message: opensslError('tlsv13 alert certificate required', 116), phase: 'after-secureConnect' }
        : alertInHandshake('tls.connect', HANDSHAKE_FAILURE);
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        describe('without a client certificate', () => itSucceedsForEveryProbe(open, { version }));
        // Node has no separate code for "no certificate sent": the missing issuer of the missing certificate.
        it("the server's view: secureConnection with authorized === false, authorizationError UNABLE_TO_GET_ISSUER_CERT", async () => {
          const outcome = await open().probe('tls.connect', only(version));
          expect(await open().serverView(outcome)).to.deep.equal({
            kind: 'secure',
            protocol: version,
            authorized: false,
            authorizationError: 'UNABLE_TO_GET_ISSUER_CERT',
            peerCommonName: undefined,
            clientPort: outcome.localPort,
          });
        });
        it("with an untrusted client certificate: HTTP 200 for 'mallory', and the server's view says authorized === false", async () => {
          const mallory = await pki.untrustedClientCert();
          const outcome = await open().probe('tls.connect', { ...only(version), cert: mallory.certPem, key: mallory.keyPem });
          expectSuccess(outcome, open(), version, 'mallory');
          expect(await open().serverView(outcome)).to.deep.equal({
            kind: 'secure',
            protocol: version,
            authorized: false,
            authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
            peerCommonName: 'mallory',
            clientPort: outcome.localPort,
          });
        });
        describe('fix: the server requires the certificate (rejectUnauthorized: true)', () => {
          itSucceedsForEveryProbe(required, { version, clientCommonName: 'alice' });
          // Now a client without a certificate is refused, exactly as in missing-client-cert (nginx: its 400 page).
          const withoutCert = { cert: undefined, key: undefined };
          if (SERVER_SOFTWARE === 'nginx') itGetsNginxErrorPage(required, 'tls.connect', version, NO_CERTIFICATE_SENT, withoutCert);
          else itFails(required, 'tls.connect', withoutCertificate(version), { version, with: withoutCert });
        });
      });
    }
  });
});

/**
 * How the server refuses a client certificate it does not accept, for the backend the specs run on: a Node server
 * drops the connection without an alert (the reason stays on the server), openssl s_server sends `alert`, nginx
 * answers the request with its HTTP 400 page.
 */
function itRefusesTheCertificate(broken: () => Endpoint, refusal: { authorizationError: string; alert: Alert }): void {
  if (SERVER_SOFTWARE === 'node') itIsDroppedWithoutAlert(broken, refusal.authorizationError);
  if (SERVER_SOFTWARE === 'openssl') {
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}: openssl s_server sends the alert '${refusal.alert.reason}' (${refusal.alert.number})`, () => {
        for (const probe of PROBE_NAMES) itFails(broken, probe, alertFor(probe, version, refusal.alert), { version });
      });
    }
  }
  if (SERVER_SOFTWARE === 'nginx') {
    for (const version of TLS_VERSIONS) describe(`over ${version}`, () => itGetsNginxErrorPageForEveryProbe(broken, version, CERTIFICATE_ERROR));
  }
}

/**
 * A Node server with requestCert + rejectUnauthorized that refuses a client certificate does so after the
 * handshake, by destroying the socket without an alert. What each client sees of that close, and what the server
 * knows (its tlsClientError is a generic ECONNRESET 'socket hang up'; the reason is the socket's authorizationError).
 */
function itIsDroppedWithoutAlert(broken: () => Endpoint, authorizationError: string): void {
  describe('over TLSv1.3', () => {
    // The client has finished its side of the handshake (secureConnect) before the server verifies its
    // certificate, so the close arrives afterwards: tls.connect, which reads to the end, finds the connection
    // closed with no HTTP response; https, waiting for the response, reports 'socket hang up'; undici reports
    // the close as UND_ERR_SOCKET.
    const version = 'TLSv1.3';
    for (const probe of PROBE_NAMES) itFails(broken, probe, droppedWithoutAlert(probe, version), { version });
    it('tls.connect: the handshake had succeeded on the client side (TLSv1.3, server authorized) before the close', async () => {
      const outcome = await broken().probe('tls.connect', only(version));
      expect({ protocol: outcome.protocol, authorized: outcome.authorized }).to.deep.equal({ protocol: version, authorized: true });
    });
  });

      describe('over TLSv1.2', () => {
    // The server verifies the certificate before it sends its Finished, so every client sees the connection end
    // during the handshake.
    for (const probe of PROBE_NAMES) itFails(broken, probe, droppedWithoutAlert(probe, 'TLSv1.2'), { version: 'TLSv1.2' });
  });

  for (const version of TLS_VERSIONS) {
    it(`the server's view over ${version}: tlsClientError ECONNRESET 'socket hang up', authorizationError ${authorizationError}`, async () => {
      const outcome = await broken().probe('tls.connect', only(version));
      expect(await broken().serverView(outcome)).to.deep.equal({
        kind: 'tls-client-error',
        code: 'ECONNRESET',
        message: 'socket hang up',
        authorizationError,
        clientPort: outcome.localPort,
      });
    });
  }
}
