import { expect } from 'chai';
import { pki } from '../certs/index.ts';
import { PROBE_NAMES } from '../harness/index.ts';
import { CertificatePinMismatch, fingerprint256, previousServerCertificate } from '../harness/scenarios/client-configuration.ts';
import { childStderr, describeFamily, explain, only } from './support/runner.ts';
import { carriesHostAndCert } from './support/errors.ts';

await describeFamily('client-configuration', {
  'node-tls-reject-unauthorized-0': {
    once() {
      it("stderr: exactly one warning — 'Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes … insecure'", async () => {
        expect(await childStderr('node-tls-reject-unauthorized-0')).to.match(
          /^\(node:\d+\) Warning: Setting the NODE_TLS_REJECT_UNAUTHORIZED environment variable to '0' makes TLS connections and HTTPS requests insecure by disabling certificate verification\.\n\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n$/,
        );
      });
    },
  },
  'certificate-pin-mismatch': {
    each({ broken, version }) {
      for (const probe of PROBE_NAMES) {
        it(`${probe}: the error is the very CertificatePinMismatch checkServerIdentity returned, naming both fingerprints`, async () => {
          const outcome = await broken().probe(probe, only(version));
          const error = probe === 'fetch' ? outcome.error?.cause : outcome.error;
          expect(error, explain(outcome)).to.be.instanceOf(CertificatePinMismatch);
          expect((error as CertificatePinMismatch).message).to.equal(
            `certificate pin mismatch for localhost: the server presented SHA-256 ${fingerprint256(await pki.serverLeaf())}, ` +
              `the client pins ${fingerprint256(await previousServerCertificate())}`,
          );
        });
      }
    },
  },
  // The error lists the names of the certificate the client got — the server's default one — not those the server has.
  'wrong-servername': carriesHostAndCert('example.test', {
    CN: 'localhost',
    subjectaltname: 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
  }),
});
