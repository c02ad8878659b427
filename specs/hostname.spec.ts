import { expect } from 'chai';
import { TLS_VERSIONS, only } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { expectFailure, forProbe, itFailsForEveryProbe, itSucceedsForEveryProbe } from './support/expectations.ts';
import { PROBE_NAMES } from '../harness/index.ts';

describe('hostname', () => {
  describe('wrong-host: the certificate names another host', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "Hostname/IP does not match certificate's altnames: Host: localhost.
    // is not in the cert's altnames: DNS:wrong.host.example".
    // Why: the chain is trusted, but Node's checkServerIdentity finds the name the client asked for (the
    // `servername`, else the `host`) in none of the certificate's subjectAltName entries.
    // Fix: connect by a name the certificate carries, or reissue the certificate with the right SAN.
    const wrongHost = useEndpoint('wrong-host');
    const reissued = useEndpoint('wrong-host', { fixed: true });
    const reason = "Host: localhost. is not in the cert's altnames: DNS:wrong.host.example";
    const expected = {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      message: `Hostname/IP does not match certificate's altnames: ${reason}`,
      phase: 'handshake',
    } as const;
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(wrongHost, expected, { version });

        for (const probe of PROBE_NAMES) {
          it(`${probe}: the error carries reason, host 'localhost' and the peer cert (subjectaltname DNS:wrong.host.example)`, async () => {
            const outcome = await wrongHost().probe(probe, only(version));
            expectFailure(outcome, forProbe(probe, expected));
            // fetch wraps the TLS error: the fields are on its cause.
            const error = (probe === 'fetch' ? outcome.error?.cause : outcome.error) as Record<string, unknown>;
            expect(error.reason).to.equal(reason);
            expect(error.host).to.equal('localhost');
            expect((error.cert as { subjectaltname?: string }).subjectaltname).to.equal('DNS:wrong.host.example');
          });
        }

        describe('fix: connect by the name the certificate carries (servername wrong.host.example)', () =>
          itSucceedsForEveryProbe(wrongHost, { version, with: { servername: 'wrong.host.example' } }));
        describe('fix: a certificate reissued with the right SAN (DNS:localhost)', () =>
          itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });
});
