import { certificate, localLeaf } from '../../certs/index.ts';
import { ALERTS, alertInHandshake, fails, openssl, perVersion, tlsClientError } from '../expect.ts';
import { TOOLS_HANDSHAKE_FAILURE, certificateProblem, curl, pythonRejects, sClientRejects } from '../expect-tools.ts';
import { defineScenario, fixed, leafServed, pems, underRoot } from '../scenario.ts';

/** A private-enterprise OID no verifier knows: an extension under it can only be skipped, or refused if critical. */
const UNKNOWN_EXTENSION_OID = '1.3.6.1.4.1.55555.1';
/** DER NULL: the extension's value; any well-formed DER would do. */
const DER_NULL = new Uint8Array([0x05, 0x00]);

export const chainRuleScenarios = [
  defineScenario({
    id: 'intermediate-not-ca',
    family: 'chain-rules',
    title: 'Intermediate certificate marked CA:FALSE',
    cause:
      'The certificate that issued the leaf has basicConstraints CA:FALSE — it is an end-entity certificate that ' +
      'was used to sign another one (a server certificate turned into a "CA" by hand, e.g. `openssl x509 -req ' +
      '-CA server.pem`). OpenSSL refuses it as an issuer; since it is not a CA, it fails the purpose check for CAs.',
    fix:
      'Issue the leaf from a real CA certificate: basicConstraints critical CA:TRUE and keyUsage keyCertSign ' +
      '(`-extensions v3_ca` in openssl).',
    expect: 'reject',
    setup: async (pki) =>
      leafServed(pki, localLeaf('localhost'), {
        intermediate: await underRoot(
          pki,
          certificate('tls-harness Not-a-CA Intermediate').basic({ ca: false }).keyUsage('keyCertSign', 'cRLSign'),
        ),
      }),
    // Not INVALID_CA: OpenSSL checks each issuer for the "TLS server CA" purpose, and CA:FALSE fails that check.
    node: [{ expect: fails('INVALID_PURPOSE', 'unsuitable certificate purpose') }, fixed('a leaf issued by a CA:TRUE intermediate')],
    tools: certificateProblem(79, 'invalid CA certificate', 'unknown CA'),
  }),
  defineScenario({
    id: 'intermediate-without-basic-constraints',
    family: 'chain-rules',
    title: 'Intermediate certificate without basicConstraints',
    cause:
      'The intermediate has keyCertSign but no basicConstraints extension at all (a v3 certificate made without ' +
      '`-extensions v3_ca`). RFC 5280 requires CA:TRUE for any certificate that signs others, so OpenSSL does not ' +
      'accept it as a CA (compare intermediate-not-ca: an explicit CA:FALSE is reported as INVALID_PURPOSE instead).',
    fix: 'Reissue the intermediate with basicConstraints critical CA:TRUE (and a pathLen if it should not sub-delegate).',
    expect: 'reject',
    setup: async (pki) =>
      leafServed(pki, localLeaf('localhost'), {
        intermediate: await underRoot(
          pki,
          certificate('tls-harness Intermediate without basicConstraints').keyUsage('keyCertSign', 'cRLSign'),
        ),
      }),
    node: [{ expect: fails('INVALID_CA', 'invalid CA certificate') }, fixed('an intermediate with basicConstraints CA:TRUE')],
    tools: certificateProblem(79, 'invalid CA certificate', 'unknown CA'),
  }),
  defineScenario({
    id: 'intermediate-without-keycertsign',
    family: 'chain-rules',
    title: 'Intermediate CA whose keyUsage lacks keyCertSign',
    cause:
      'The intermediate is CA:TRUE, but its keyUsage extension (digitalSignature, cRLSign) does not include ' +
      'keyCertSign, so its key may not sign certificates. Node has no code for this OpenSSL error and reports ' +
      "UNSPECIFIED, with OpenSSL's reason as the message.",
    fix: 'Reissue the intermediate with keyUsage keyCertSign (and cRLSign), or drop keyUsage from it altogether.',
    expect: 'reject',
    setup: async (pki) =>
      leafServed(pki, localLeaf('localhost'), {
        intermediate: await underRoot(
          pki,
          certificate('tls-harness Intermediate without keyCertSign').ca({ pathLength: 0 }).keyUsage('digitalSignature', 'cRLSign'),
        ),
      }),
    node: [
      { expect: fails('UNSPECIFIED', 'key usage does not include certificate signing') },
      fixed('an intermediate with keyUsage keyCertSign'),
    ],
    tools: certificateProblem(79, 'invalid CA certificate', 'unknown CA'),
  }),
  defineScenario({
    id: 'path-length-exceeded',
    family: 'chain-rules',
    title: 'Sub-CA below an intermediate whose pathLen is 0',
    cause:
      'The intermediate says basicConstraints CA:TRUE, pathlen:0 — it may issue leaves, not further CAs — yet a ' +
      'sub-CA was created under it and issued the leaf. The chain root → intermediate → sub-CA → leaf breaks the ' +
      "intermediate's path length constraint.",
    fix: 'Issue the leaf from the pathLen-0 intermediate itself, or get a sub-CA from a CA whose pathLen allows it.',
    expect: 'reject',
    async setup(pki) {
      const intermediate = await pki.intermediateCa(); // pathLen 0
      const subCa = await certificate('tls-harness Sub-CA').ca().validDays(-1, 365).issuedBy(intermediate).build();
      return {
        server: { chain: [await localLeaf('localhost').issuedBy(subCa).build(), subCa, intermediate] },
        client: { ca: pems(await pki.rootCa()) },
        fixed: { server: { chain: [await pki.serverLeaf(), intermediate] } },
      };
    },
    node: [
      { expect: fails('PATH_LENGTH_EXCEEDED', 'path length constraint exceeded') },
      fixed('the leaf issued by the pathLen-0 intermediate directly'),
    ],
    tools: certificateProblem(25, 'path length constraint exceeded', 'unknown CA'),
  }),
  defineScenario({
    id: 'name-constraint-violation',
    family: 'chain-rules',
    title: 'Leaf name outside the issuing CA’s permitted name constraints',
    cause:
      'The intermediate carries a critical nameConstraints extension that permits only names under example.com ' +
      '(a CA delegated to one organisation). It issued a certificate for localhost anyway; OpenSSL checks every ' +
      'DNS name of the leaf (SAN, and a CN that looks like a host name) against the permitted subtree.',
    fix:
      'Get the certificate from a CA allowed to issue for the name (or widen the constraint when reissuing the ' +
      'intermediate). Here: an intermediate that permits localhost.',
    expect: 'reject',
    setup: async (pki) =>
      leafServed(pki, localLeaf('localhost'), {
        intermediate: await underRoot(
          pki,
          certificate('tls-harness example.com CA')
            .ca({ pathLength: 0 })
            .nameConstraints({ permittedDns: ['example.com'] }),
        ),
        fixedLeaf: localLeaf('localhost'),
        fixedIntermediate: await underRoot(
          pki,
          certificate('tls-harness localhost CA')
            .ca({ pathLength: 0 })
            .nameConstraints({ permittedDns: ['localhost'] }),
        ),
      }),
    // No Node code for this OpenSSL error. (The leaf's IP SANs are not constrained: the CA has no IP subtree.)
    node: [
      { expect: fails('UNSPECIFIED', 'permitted subtree violation') },
      fixed('issued by an intermediate whose constraints permit localhost'),
    ],
    tools: certificateProblem(47, 'permitted subtree violation', 'certificate unknown'),
  }),
  defineScenario({
    id: 'name-constraint-excluded',
    family: 'chain-rules',
    title: 'Leaf name inside the issuing CA’s excluded name constraints',
    cause:
      'The intermediate’s nameConstraints exclude localhost (excluded subtrees win over everything) and it issued ' +
      'a certificate for localhost anyway.',
    fix: 'Get the certificate from a CA whose constraints do not exclude the name.',
    expect: 'reject',
    setup: async (pki) =>
      leafServed(pki, localLeaf('localhost'), {
        intermediate: await underRoot(
          pki,
          certificate('tls-harness No-localhost CA')
            .ca({ pathLength: 0 })
            .nameConstraints({ excludedDns: ['localhost'] }),
        ),
      }),
    node: [{ expect: fails('UNSPECIFIED', 'excluded subtree violation') }, fixed('issued by an unconstrained intermediate')],
    tools: certificateProblem(48, 'excluded subtree violation', 'certificate unknown'),
  }),
  defineScenario({
    id: 'unknown-critical-extension',
    family: 'chain-rules',
    title: 'Leaf with an extension the client does not know, marked critical',
    cause:
      'The leaf carries a private extension flagged critical. RFC 5280: a verifier that does not recognise a ' +
      'critical extension must reject the certificate; a non-critical one it may ignore. Node has no code for ' +
      "this OpenSSL error and reports UNSPECIFIED, with OpenSSL's reason as the message.",
    fix: 'Reissue the certificate with the extension non-critical (or without it).',
    expect: 'reject',
    setup(pki) {
      const withExtension = (critical: boolean) =>
        localLeaf('localhost')
          .label(`leaf with a ${critical ? 'critical' : 'non-critical'} unknown extension`)
          .extension({ oid: UNKNOWN_EXTENSION_OID, critical, value: DER_NULL });
      return leafServed(pki, withExtension(true), { fixedLeaf: withExtension(false) });
    },
    node: [{ expect: fails('UNSPECIFIED', 'unhandled critical extension') }, fixed('the same extension, non-critical')],
    tools: certificateProblem(34, 'unhandled critical extension', 'certificate unknown'),
  }),
  defineScenario({
    id: 'leaf-eku-client-auth-only',
    family: 'chain-rules',
    title: 'Server certificate whose extendedKeyUsage allows clientAuth only',
    cause:
      'The leaf was issued from a client-certificate template: extendedKeyUsage clientAuth, no serverAuth. Node ' +
      'verifies server chains for the TLS-server purpose, and an EKU extension that is present must list it.',
    fix: 'Reissue the certificate with extendedKeyUsage serverAuth (both, if the same certificate serves mTLS too).',
    expect: 'reject',
    setup: (pki) => leafServed(pki, localLeaf('localhost').label('leaf with EKU clientAuth').extendedKeyUsage('clientAuth')),
    node: [{ expect: fails('INVALID_PURPOSE', 'unsuitable certificate purpose') }, fixed('a leaf with extendedKeyUsage serverAuth')],
    tools: certificateProblem(26, 'unsuitable certificate purpose', 'unsupported certificate'),
  }),
  defineScenario({
    id: 'ca-cert-as-leaf',
    family: 'chain-rules',
    title: 'The server presents its CA certificate (and key) as its own certificate',
    cause:
      'The server was configured with the intermediate CA’s certificate and key instead of a server certificate ' +
      '(ca.crt/ca.key in place of server.crt/server.key). A CA certificate’s keyUsage is keyCertSign and cRLSign ' +
      'only: over TLS 1.3 the client refuses it for the TLS-server purpose; over TLS 1.2 the server cannot even ' +
      'sign an ECDHE key exchange with it, finds no cipher suite it may use, and aborts the handshake.',
    fix: 'Issue a server certificate from the CA and serve that (with the CA as its chain); keep the CA key off servers.',
    expect: 'reject',
    async setup(pki) {
      return { ...(await leafServed(pki, await pki.serverLeaf())), server: { chain: [await pki.intermediateCa()] } };
    },
    node: [
      {
        // TLS 1.2: the server's handshake_failure alert, and no certificate check at all; TLS 1.3 servers do not check
        // their own keyUsage, so the certificate reaches the client. (It is the keyUsage that fails: OpenSSL accepts a
        // CA:TRUE leaf whose keyUsage includes digitalSignature.)
        expect: perVersion(fails('INVALID_PURPOSE', 'unsuitable certificate purpose'), alertInHandshake(ALERTS.handshakeFailure)),
        server: perVersion(undefined, tlsClientError('ERR_SSL_NO_SHARED_CIPHER', openssl('no shared cipher'))),
      },
      fixed('a server certificate issued by the CA, sent with the CA'),
    ],
    // TLS 1.3: the purpose check. TLS 1.2: the server finds no suite its CA key may sign for and aborts.
    tools: {
      curl: perVersion(curl(60, 'SSL certificate problem: unsuitable certificate purpose'), TOOLS_HANDSHAKE_FAILURE.curl),
      sClient: perVersion(sClientRejects(26, 'unsuitable certificate purpose', 'unsupported certificate'), TOOLS_HANDSHAKE_FAILURE.sClient),
      python: perVersion(pythonRejects('unsuitable certificate purpose'), TOOLS_HANDSHAKE_FAILURE.python),
    },
  }),
  defineScenario({
    id: 'tampered-signature',
    family: 'chain-rules',
    title: 'Leaf whose signature does not verify',
    cause:
      'One bit of the leaf’s signature differs from what the intermediate signed (corruption, a certificate edited ' +
      'after signing, or a leaf paired with a same-named intermediate that has a different key). The issuer is ' +
      'found, but its public key does not verify the leaf.',
    fix: 'Serve the certificate exactly as the CA issued it, with the intermediate whose key signed it.',
    expect: 'reject',
    setup: (pki) => leafServed(pki, localLeaf('localhost').label('leaf with a flipped signature bit').tamperSignature()),
    node: [{ expect: fails('CERT_SIGNATURE_FAILURE', 'certificate signature failure') }, fixed('the certificate as the CA issued it')],
    tools: {
      ...certificateProblem(7, 'certificate signature failure', 'decrypt error'),
      // curl reports the first error of OpenSSL's queue — the failed signature check's 'EVP lib' — as an SSL connect
      // error (35), not as a certificate problem (60).
      curl: curl(35, 'OpenSSL/<version>: error:06880006:asn1 encoding routines::EVP lib'),
      sClient: sClientRejects(7, 'certificate signature failure', 'decrypt error', {
        error: `error:06880006:asn1 encoding routines:ASN1_item_verify_ctx:EVP lib\nerror:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed`,
      }),
    },
  }),
];
