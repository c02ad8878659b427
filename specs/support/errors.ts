import type { PeerCertificate } from 'node:tls';
import { expect } from 'chai';
import { PROBE_NAMES } from '../../harness/index.ts';
import { expectFailure, only, type Extra } from './runner.ts';

/**
 * Node's mismatch error carries `reason`, the `host` it checked and the peer `cert`: what a developer logs to see which
 * name was compared with which certificate. fetch wraps the TLS error, so the fields are on its cause. For each
 * scenario below, where the declaration expects ERR_TLS_CERT_ALTNAME_INVALID, every probe's error carries them.
 */
export function carriesHostAndCert(host: string, cert: { CN?: string; subjectaltname: string }): Extra {
  return {
    each(context) {
      for (const probe of PROBE_NAMES) {
        const expected = context.expected(probe);
        if (expected.kind !== 'fails' || expected.code !== 'ERR_TLS_CERT_ALTNAME_INVALID' || typeof expected.message !== 'string') continue;
        const reason = expected.message.replace("Hostname/IP does not match certificate's altnames: ", '');
        const what = `host '${host}', cert ${cert.CN === undefined ? '' : `CN=${cert.CN} `}subjectaltname ${cert.subjectaltname}`;
        it(`${probe}: the error carries reason, ${what}`, async () => {
          const outcome = await context.broken().probe(probe, only(context.version));
          expectFailure(outcome, expected);
          const error = (probe === 'fetch' ? outcome.error?.cause : outcome.error) as Record<string, unknown>;
          const peer = error.cert as PeerCertificate;
          expect({ reason: error.reason, host: error.host, subjectaltname: peer.subjectaltname }).to.deep.equal({
            reason,
            host,
            subjectaltname: cert.subjectaltname,
          });
          if (cert.CN !== undefined) expect(peer.subject.CN).to.equal(cert.CN);
        });
      }
    },
  };
}
