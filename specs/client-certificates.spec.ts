import { expect } from 'chai';
import { describeFamily, explain, only, type Extra } from './support/runner.ts';

/**
 * Where the declaration says the server closed the connection after secureConnect without a word (a Node server that
 * refuses the client certificate, over TLS 1.3), the client's side of the handshake had succeeded: it negotiated the
 * protocol and verified the server before the close.
 */
const HANDSHAKE_DONE_BEFORE_THE_CLOSE: Extra = {
  each(context) {
    const expected = context.expected('tls.connect');
    if (expected.kind !== 'fails' || expected.code !== 'NO_RESPONSE') return;
    it(`tls.connect: the handshake had succeeded on the client side (${context.version}, server authorized) before the close`, async () => {
      const outcome = await context.broken().probe('tls.connect', only(context.version));
      expect({ protocol: outcome.protocol, authorized: outcome.authorized }, explain(outcome)).to.deep.equal({
        protocol: context.version,
        authorized: true,
      });
    });
  },
};

await describeFamily('client-certificates', {
  'untrusted-client-cert': HANDSHAKE_DONE_BEFORE_THE_CLOSE,
  'expired-client-cert': HANDSHAKE_DONE_BEFORE_THE_CLOSE,
  'client-cert-server-auth-eku': HANDSHAKE_DONE_BEFORE_THE_CLOSE,
  'revoked-client-cert': HANDSHAKE_DONE_BEFORE_THE_CLOSE,
});
