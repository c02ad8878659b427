import { expect } from 'chai';
import { TLS_VERSIONS, ALERT_PREFIX, only } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itFails, itSucceedsForEveryProbe, opensslError } from './support/expectations.ts';

describe('client certificates', () => {
  describe('missing-client-cert: the server requires a client certificate and the client sends none', () => {
    // What you see: TLS 1.3 — ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, *after* secureConnect: the client has
    // finished its side of the handshake before the server judges its (absent) certificate. TLS 1.2 — the
    // handshake-failure alert during the handshake. fetch over TLS 1.3 never reads the alert: it reports
    // UND_ERR_SOCKET 'other side closed'.
    // Why: the server has requestCert + rejectUnauthorized (mutual TLS); a client without `cert`/`key` has
    // nothing to send, and the server's OpenSSL aborts the handshake.
    // Fix: give the client its certificate and key (`cert` + `key`, or `pfx`) from a CA the server trusts.
    const broken = useEndpoint('missing-client-cert');
    const fixed = useEndpoint('missing-client-cert', { fixed: true });

    describe('over TLSv1.3', () => {
      const certificateRequired = {
        code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        message: opensslError('tlsv13 alert certificate required', 116),
        phase: 'after-secureConnect',
      } as const;
      itFails(broken, 'tls.connect', certificateRequired, { version: 'TLSv1.3' });
      itFails(broken, 'https.request', certificateRequired, { version: 'TLSv1.3' });
      // undici sees the server close the socket (end) before it reads the alert, and reports the close.
      itFails(broken, 'fetch', { code: 'UND_ERR_SOCKET', message: 'other side closed', phase: 'request' }, { version: 'TLSv1.3' });
    });

    describe('over TLSv1.2', () => {
      // OpenSSL 3.2 renamed "sslv3 alert handshake failure" to "ssl/tls alert handshake failure" (see ALERT_PREFIX).
      const handshakeFailure = {
        code: `${ALERT_PREFIX.code}HANDSHAKE_FAILURE`,
        message: opensslError(`${ALERT_PREFIX.reason} handshake failure`, 40),
        phase: 'handshake',
      } as const;
      itFails(broken, 'tls.connect', handshakeFailure, { version: 'TLSv1.2' });
      // https writes the request before the handshake is done, so the alert surfaces as that write's failure:
      // EPROTO, with the same OpenSSL reason prefixed by "write EPROTO".
      const writeFailed = opensslError(`${ALERT_PREFIX.reason} handshake failure`, 40, 'write EPROTO ');
      itFails(broken, 'https.request', { ...handshakeFailure, code: 'EPROTO', message: writeFailed }, { version: 'TLSv1.2' });
      itFails(broken, 'fetch', handshakeFailure, { version: 'TLSv1.2' });
    });

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
});
