import { createPrivateKey } from 'node:crypto';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { findScenario, scenarioMaterial, startEndpoint } from '../harness/index.ts';
import { TLS_VERSIONS } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itSucceedsForEveryProbe } from './support/expectations.ts';

/** An error thrown while the server starts, reduced to what the spec asserts. */
interface StartError {
  name: string;
  code: string | undefined;
  message: string;
}

function summary(error: unknown): StartError {
  expect(error).to.be.instanceOf(Error);
  const e = error as Error & { code?: string };
  return { name: e.name, code: e.code, message: e.message };
}

/** What startEndpoint rejects with (closing the endpoint if, against expectation, it started). */
async function startError(id: string): Promise<unknown> {
  return startEndpoint(id).then(
    async (endpoint) => {
      await endpoint.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

/** The key/cert options the scenario hands to the TLS stack, as https.createServer receives them. */
async function secureContextOptions(id: string): Promise<tls.SecureContextOptions> {
  const { server } = await scenarioMaterial(findScenario(id));
  const [leaf] = server.chain;
  return { key: leaf?.keyPem, cert: server.chain.map((c) => c.certPem).join(''), ...server.raw };
}

/**
 * The scenario's outcome is the error the server throws at start-up: https.createServer builds its secure context
 * (tls.createSecureContext) synchronously, so the error reaches whoever creates the server — here startEndpoint,
 * which rejects with it before anything listens. No client is involved.
 */
function itFailsToStart(id: string, expected: StartError): void {
  it(`the server does not start: https.createServer throws ${expected.code}: '${expected.message}'`, async () =>
    expect(summary(await startError(id))).to.deep.equal(expected));
  it(`tls.createSecureContext with the same key and certificate throws the same ${expected.code}`, async () => {
    const options = await secureContextOptions(id);
    expect(summary(catchError(() => tls.createSecureContext(options)))).to.deep.equal(expected);
  });
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('server configuration', () => {
  describe("key-certificate-mismatch: the server's key belongs to another certificate", () => {
    // What you see (on the server, at start-up): Error ERR_OSSL_X509_KEY_VALUES_MISMATCH
    // 'error:05800074:x509 certificate routines::key values mismatch', thrown by https.createServer.
    // Why: OpenSSL checks that the private key matches the certificate's public key when the secure context is
    // built; here the key is that of another certificate, so the server never listens.
    // Fix: configure the key the certificate was issued for.
    itFailsToStart('key-certificate-mismatch', {
      name: 'Error',
      code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
      message: 'error:05800074:x509 certificate routines::key values mismatch',
    });
    const fixed = useEndpoint('key-certificate-mismatch', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: the matching key — the server starts and every client connects`, () =>
        itSucceedsForEveryProbe(fixed, { version }));
    }
  });

  describe("wrong-key-passphrase: the server's encrypted key gets the wrong passphrase", () => {
    // What you see (on the server, at start-up): Error ERR_OSSL_BAD_DECRYPT
    // 'error:1C800064:Provider routines::bad decrypt', thrown by https.createServer.
    // Why: the key is an encrypted PKCS#8 PEM and the `passphrase` option does not decrypt it. A missing
    // passphrase fails the same way, so the message cannot tell "wrong" from "forgotten".
    // Fix: pass the passphrase the key was encrypted with.
    const badDecrypt = { name: 'Error', code: 'ERR_OSSL_BAD_DECRYPT', message: 'error:1C800064:Provider routines::bad decrypt' };
    itFailsToStart('wrong-key-passphrase', badDecrypt);
    it('without any passphrase: the same ERR_OSSL_BAD_DECRYPT', async () => {
      const { passphrase: _wrong, ...options } = await secureContextOptions('wrong-key-passphrase');
      expect(summary(catchError(() => tls.createSecureContext(options)))).to.deep.equal(badDecrypt);
    });
    const fixed = useEndpoint('wrong-key-passphrase', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: the right passphrase — the server starts and every client connects`, () =>
        itSucceedsForEveryProbe(fixed, { version }));
    }
  });

  describe('der-instead-of-pem: the server certificate is given as DER', () => {
    // What you see (on the server, at start-up): Error ERR_OSSL_PEM_NO_START_LINE
    // 'error:0480006C:PEM routines::no start line', thrown by https.createServer.
    // Why: the `cert` option takes PEM; the binary DER of a .cer/.der file has no PEM header (-----BEGIN …-----)
    // line for OpenSSL's PEM reader to find. (A DER `key` fails differently: see below.)
    // Fix: convert to PEM (`openssl x509 -inform der`, or `new crypto.X509Certificate(der).toString()`).
    itFailsToStart('der-instead-of-pem', {
      name: 'Error',
      code: 'ERR_OSSL_PEM_NO_START_LINE',
      message: 'error:0480006C:PEM routines::no start line',
    });
    it("a DER private key instead: ERR_OSSL_UNSUPPORTED 'error:1E08010C:DECODER routines::unsupported'", async () => {
      const options = await secureContextOptions('der-instead-of-pem');
      const derKey = createPrivateKey(options.key as string).export({ type: 'pkcs8', format: 'der' });
      const { chain } = (await scenarioMaterial(findScenario('der-instead-of-pem'))).server;
      const cert = chain.map((c) => c.certPem).join('');
      expect(summary(catchError(() => tls.createSecureContext({ key: derKey, cert })))).to.deep.equal({
        name: 'Error',
        code: 'ERR_OSSL_UNSUPPORTED',
        message: 'error:1E08010C:DECODER routines::unsupported',
      });
    });
    const fixed = useEndpoint('der-instead-of-pem', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`fix over ${version}: the certificate converted to PEM (plus the intermediate) — every client connects`, () =>
        itSucceedsForEveryProbe(fixed, { version }));
    }
  });
});
