import * as tls from 'node:tls';
import { expect } from 'chai';
import { holds } from '../harness/index.ts';
import { SERVER_BACKEND, describeFamily, itUnless, materialOf, thrownBy } from './support/runner.ts';

/** createSecureContext for the leaf and intermediate a scenario serves, at Node's default security level. */
function loadAtDefaultLevel(id: string): () => tls.SecureContext {
  const [leaf, intermediate] = materialOf(id).server.chain;
  if (!leaf || !intermediate) throw new Error(`${id} serves a leaf and its intermediate`);
  return () => tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem + intermediate.certPem });
}

/** What a Node server at its default security level does with the scenario's certificate: load it, or refuse it with `error`. */
function serverAtDefaultLevel(id: string, loads: boolean, why: string, error: { code: string; message: string }) {
  if (loads) {
    it(`a server at the default security level loads it (${why})`, () => {
      expect(loadAtDefaultLevel(id)()).to.be.an('object');
    });
  } else {
    it(`a server at the default security level refuses to load it (${why}): ${error.code} '${error.message.replace(/^error:[0-9A-F]+:SSL routines::/, '')}'`, () =>
      void expect(thrownBy(loadAtDefaultLevel(id))).to.include(error));
  }
}

const CA_MD_TOO_WEAK = { code: 'ERR_SSL_CA_MD_TOO_WEAK', message: 'error:0A00018E:SSL routines::ca md too weak' };
const EE_KEY_TOO_SMALL = { code: 'ERR_SSL_EE_KEY_TOO_SMALL', message: 'error:0A00018F:SSL routines::ee key too small' };

const warnings: string[] = [];
const onWarning = (warning: Error) => {
  if (warning.name === 'SecurityWarning') warnings.push(`${warning.name}: ${warning.message}`);
};

await describeFamily('crypto-strength', {
  // The scenario's server runs at SECLEVEL=0; at the default level, whether a Node server even loads it depends on
  // the OpenSSL it ships (FACTS.sha1LeafLoads).
  'sha1-signed-leaf': {
    once: () =>
      serverAtDefaultLevel(
        'sha1-signed-leaf',
        holds('sha1LeafLoads'),
        holds('sha1LeafLoads') ? 'OpenSSL ≥ 3.5' : 'OpenSSL 3.0',
        CA_MD_TOO_WEAK,
      ),
  },
  'rsa-512-leaf': { once: () => serverAtDefaultLevel('rsa-512-leaf', false, 'below level 1', EE_KEY_TOO_SMALL) },
  // The same fact on the server side as for the default client: at level 1 createSecureContext takes the key, at level 2 it throws.
  'rsa-1024-leaf': {
    once: () =>
      serverAtDefaultLevel('rsa-1024-leaf', !holds('securityLevel2'), holds('securityLevel2') ? 'level 2' : 'level 1', EE_KEY_TOO_SMALL),
  },
  'dhe-1024': {
    first() {
      before(() => process.on('warning', onWarning));
      after(() => process.off('warning', onWarning));
    },
    once() {
      // A Node server's own warning (process 'warning' event); a child-process server has no way to raise it here.
      const lacks = SERVER_BACKEND.lacks['process-warning'];
      itUnless(
        typeof lacks === 'string' ? lacks : undefined,
        "the server warns at start-up: SecurityWarning 'DH parameter is less than 2048 bits' (the 2048-bit fix does not)",
        () => {
          expect(warnings).to.deep.equal(['SecurityWarning: DH parameter is less than 2048 bits']);
        },
      );
    },
  },
});
