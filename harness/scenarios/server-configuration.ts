import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { certificate } from '../../certs/index.ts';
import { verifyFails } from '../expect.ts';
import { ALL_OK } from '../expect-tools.ts';
import { defineScenario, fixed, pems } from '../scenario.ts';

/** The passphrase the server key of wrong-key-passphrase is encrypted with. */
export const KEY_PASSPHRASE = 'correct horse battery staple';

/** What wrong-key-passphrase's server is given instead. */
const WRONG_PASSPHRASE = 'correct horse battery stable';

/**
 * The key as an encrypted PKCS#8 PEM (AES-256-CBC, KEY_PASSPHRASE) that the wrong passphrase, and none at all, fail to
 * decrypt at the padding check: OpenSSL's "bad decrypt". A wrong passphrase turns CBC decryption into noise, and in
 * about 1 encryption in 256 (a fresh random salt and IV each time) that noise ends in valid padding; OpenSSL then
 * fails later, decoding it, with ERR_OSSL_UNSUPPORTED 'DECODER routines::unsupported' (seen in a CI run). The scenario
 * is about the common case, so it keeps the first encryption that shows it — every run the same outcome.
 */
function encryptFailingAtPadding(keyPem: string): string {
  const key = createPrivateKey(keyPem);
  for (let attempt = 0; attempt < 20; attempt++) {
    const encrypted = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: KEY_PASSPHRASE }).toString();
    const failsAtPadding = [{ passphrase: WRONG_PASSPHRASE }, {}].every((options) => {
      try {
        createSecureContext({ key: encrypted, ...options });
        return false;
      } catch (error) {
        return (error as { code?: string }).code === 'ERR_OSSL_BAD_DECRYPT';
      }
    });
    if (failsAtPadding) return encrypted;
  }
  // 20 encryptions in a row with valid padding under a wrong key: about 1 in 10^44.
  throw new Error('wrong-key-passphrase: no encryption of the key failed its padding check under the wrong passphrase');
}

export const serverConfigurationScenarios = [
  defineScenario({
    id: 'key-certificate-mismatch',
    family: 'server-configuration',
    title: "The server's private key does not belong to its certificate",
    cause:
      'The server is configured with a certificate and the private key of another one (the key of the previous ' +
      'certificate after a renewal, files from two environments, the wrong file from a bundle). OpenSSL compares ' +
      'the public key in the certificate with the private key when the secure context is built, so ' +
      'tls.createSecureContext — and with it https.createServer — throws before the server listens: no client ' +
      'ever connects.',
    fix:
      'Give the server the key the certificate was issued for (compare `openssl x509 -pubkey` with ' +
      '`openssl pkey -pubout`), or reissue the certificate for the key you have.',
    expect: 'reject',
    async setup(pki) {
      const other = await certificate('localhost')
        .label('another certificate')
        .serverAuth()
        .dns('localhost')
        .issuedBy(await pki.intermediateCa())
        .build();
      const chain = [await pki.serverLeaf(), await pki.intermediateCa()];
      return {
        server: { chain, raw: { key: other.keyPem } },
        client: { ca: pems(await pki.rootCa()) },
        fixed: { server: { chain } },
      };
    },
    startup: {
      node: {
        kind: 'throws',
        code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
        message: 'error:05800074:x509 certificate routines::key values mismatch',
      },
      openssl: {
        kind: 'exits',
        output: ['error setting private key', 'error:05800074:x509 certificate routines:X509_check_private_key:key values mismatch'],
      },
      nginx: {
        kind: 'exits',
        output: [
          '[emerg] SSL_CTX_use_PrivateKey("<dir>/server.key") failed (SSL: error:05800074:x509 certificate routines::key values mismatch)',
        ],
      },
    },
    node: [fixed('the matching key — the server starts and every client connects')],
    tools: ALL_OK,
  }),
  defineScenario({
    id: 'wrong-key-passphrase',
    family: 'server-configuration',
    title: "The server's encrypted private key is given the wrong passphrase",
    cause:
      'The key is an encrypted PKCS#8 PEM (labelled ENCRYPTED PRIVATE KEY) and the `passphrase` option does not ' +
      'decrypt it (a wrong or stale secret, or none at all: both look the same). Decryption fails while the ' +
      'secure context is built, so https.createServer throws "bad decrypt" before the server listens.',
    fix: 'Pass the passphrase the key was encrypted with, or decrypt the key once and protect the file instead.',
    expect: 'reject',
    async setup(pki) {
      const leaf = await pki.serverLeaf();
      const chain = [leaf, await pki.intermediateCa()];
      const encrypted = encryptFailingAtPadding(leaf.keyPem);
      return {
        server: { chain, raw: { key: encrypted, passphrase: WRONG_PASSPHRASE } },
        client: { ca: pems(await pki.rootCa()) },
        fixed: { server: { chain, raw: { key: encrypted, passphrase: KEY_PASSPHRASE } } },
      };
    },
    startup: {
      node: { kind: 'throws', code: 'ERR_OSSL_BAD_DECRYPT', message: 'error:1C800064:Provider routines::bad decrypt' },
      openssl: {
        kind: 'exits',
        output: [
          'Could not read server certificate private key from <dir>/server.key',
          'error:1608010C:STORE routines:ossl_store_handle_load_result:unsupported',
          'error:1C800064:Provider routines:ossl_cipher_unpadblock:bad decrypt',
          'error:11800074:PKCS12 routines:PKCS12_pbe_crypt_ex:pkcs12 cipherfinal error:maybe wrong password',
        ],
      },
      nginx: {
        kind: 'exits',
        output: [
          '[emerg] cannot load certificate key "<dir>/server.key": PEM_read_bio_PrivateKey() failed (SSL: ' +
            'error:1C800064:Provider routines::bad decrypt error:11800074:PKCS12 routines::pkcs12 cipherfinal error:maybe wrong password ' +
            'error:1C800064:Provider routines::bad decrypt error:11800074:PKCS12 routines::pkcs12 cipherfinal error:maybe wrong password)',
        ],
      },
    },
    node: [fixed('the right passphrase — the server starts and every client connects')],
    tools: ALL_OK,
  }),
  defineScenario({
    id: 'der-instead-of-pem',
    family: 'server-configuration',
    title: 'The server certificate is given in DER where PEM is expected',
    cause:
      "Node's `cert` option takes PEM text; the server was given the certificate's binary DER encoding (a .cer or " +
      '.der file read with fs.readFileSync, as Windows and Java tools export it). OpenSSL looks for a ' +
      '"-----BEGIN" line, finds none, and https.createServer throws before the server listens.',
    fix:
      'Convert the certificate to PEM — `openssl x509 -inform der -in server.der -out server.pem`, or ' +
      '`new crypto.X509Certificate(der).toString()` — and send the intermediate along with it.',
    expect: 'reject',
    async setup(pki) {
      const leaf = await pki.serverLeaf();
      const intermediate = await pki.intermediateCa();
      const der = new X509Certificate(leaf.certPem).raw;
      return {
        server: { chain: [leaf, intermediate], raw: { cert: der } },
        client: { ca: pems(await pki.rootCa()) },
        fixed: { server: { chain: [leaf, intermediate], raw: { cert: new X509Certificate(der).toString() + intermediate.certPem } } },
      };
    },
    startup: {
      node: { kind: 'throws', code: 'ERR_OSSL_PEM_NO_START_LINE', message: 'error:0480006C:PEM routines::no start line' },
      // s_server reads a DER certificate as readily as PEM (its loader detects the format), so it starts — and serves
      // that one certificate without its intermediate.
      openssl: { kind: 'serves', failure: verifyFails('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate') },
      nginx: {
        kind: 'exits',
        output: [
          '[emerg] cannot load certificate "<dir>/server.crt": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)',
        ],
      },
    },
    node: [fixed('the certificate converted to PEM (plus the intermediate) — every client connects')],
    tools: ALL_OK,
  }),
];
