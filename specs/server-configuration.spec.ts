import { createPrivateKey } from 'node:crypto';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { describeFamily, materialOf, errorSummary, thrownBy } from './support/runner.ts';

/** The key/cert options the scenario hands to the TLS stack, as https.createServer receives them. */
function secureContextOptions(id: string): tls.SecureContextOptions {
  const { server } = materialOf(id);
  return { key: server.chain[0]?.keyPem, cert: server.chain.map((c) => c.certPem).join(''), ...server.raw };
}

await describeFamily('server-configuration', {
  'wrong-key-passphrase': {
    // A missing passphrase fails the same way, so the message cannot tell "wrong" from "forgotten".
    once() {
      it('without any passphrase: the same ERR_OSSL_BAD_DECRYPT', () => {
        const { passphrase: _wrong, ...options } = secureContextOptions('wrong-key-passphrase');
        expect(errorSummary(thrownBy(() => tls.createSecureContext(options)))).to.deep.equal({
          name: 'Error',
          code: 'ERR_OSSL_BAD_DECRYPT',
          message: 'error:1C800064:Provider routines::bad decrypt',
        });
      });
    },
  },
  'der-instead-of-pem': {
    once() {
      it("a DER private key instead: ERR_OSSL_UNSUPPORTED 'error:1E08010C:DECODER routines::unsupported'", () => {
        const options = secureContextOptions('der-instead-of-pem');
        const derKey = createPrivateKey(options.key as string).export({ type: 'pkcs8', format: 'der' });
        const cert = materialOf('der-instead-of-pem')
          .server.chain.map((c) => c.certPem)
          .join('');
        expect(errorSummary(thrownBy(() => tls.createSecureContext({ key: derKey, cert })))).to.deep.equal({
          name: 'Error',
          code: 'ERR_OSSL_UNSUPPORTED',
          message: 'error:1E08010C:DECODER routines::unsupported',
        });
      });
    },
  },
});
