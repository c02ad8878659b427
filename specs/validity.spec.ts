import { TLS_VERSIONS } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itFailsForEveryProbe, itSucceedsForEveryProbe } from './support/expectations.ts';

describe('validity', () => {
  describe('expired-leaf: the server certificate has expired', () => {
    // What you see: CERT_HAS_EXPIRED 'certificate has expired', from tls.connect, https and (as fetch's cause) fetch.
    // Why: the leaf's notAfter is in the past (here: yesterday). The chain is otherwise perfect; validity is
    // checked against the client's clock, during the handshake, before any byte of HTTP.
    // Fix: renew the certificate and reload the server. The renewed certificate is accepted.
    const expired = useEndpoint('expired-leaf');
    const renewed = useEndpoint('expired-leaf', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          expired,
          { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired', phase: 'handshake' },
          { version },
        );
        describe('fix: a renewed certificate', () => itSucceedsForEveryProbe(renewed, { version }));
      });
    }
  });
});
