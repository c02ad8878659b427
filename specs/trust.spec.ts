import * as tls from 'node:tls';
import { expect } from 'chai';
import { describeFamily, materialOf, thrownBy } from './support/runner.ts';

await describeFamily('trust', {
  'chain-out-of-order': {
    // Only the leaf's place is fixed, and a Node server enforces it itself: the first certificate of `cert` is the
    // one paired with `key`, so an intermediate in first place stops the server from starting.
    once() {
      it("an intermediate before the leaf: the server's createSecureContext throws ERR_OSSL_X509_KEY_VALUES_MISMATCH", () => {
        const [leaf, , issuing] = materialOf('chain-out-of-order').server.chain;
        if (!leaf || !issuing) throw new Error('chain-out-of-order serves leaf, top and issuing CA');
        const error = thrownBy(() => tls.createSecureContext({ key: leaf.keyPem, cert: issuing.certPem + leaf.certPem }));
        expect(error).to.include({
          code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
          message: 'error:05800074:x509 certificate routines::key values mismatch',
        });
      });
    },
  },
});
