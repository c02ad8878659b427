import { defineScenario } from '../scenario.ts';

export const trustScenarios = [
  defineScenario({
    id: 'untrusted-root-in-chain',
    family: 'trust',
    title: 'Private root CA sent in the chain, not trusted by the client',
    cause:
      'The server sends leaf, intermediate and its own root. The chain is complete, but it ends in a self-signed ' +
      'certificate that is not in the client trust store, so OpenSSL reports a self-signed certificate in the chain.',
    fix:
      "Trust that root on the client: the `ca` option (which replaces Node's default roots), or " +
      'NODE_EXTRA_CA_CERTS=/path/root.pem at process start (which adds to them). Never rejectUnauthorized: false.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: {
          chain: [await pki.untrustedLeaf(), await pki.untrustedIntermediateCa(), await pki.untrustedRootCa()],
        },
        client: { trust: [await pki.rootCa()] },
        fixed: { client: { trust: [await pki.untrustedRootCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'private-ca-default-store',
    family: 'trust',
    title: "Private CA checked against Node's default root store",
    cause:
      "The server sends leaf and intermediate, issued by a private root. The client uses Node's bundled Mozilla " +
      'roots (no `ca` option), which do not include that root, so the issuer of the top certificate is not found.',
    fix:
      'Give the client the private root: `ca: [root]`, or `ca: [...tls.rootCertificates, root]` to keep the public ' +
      'roots as well, or NODE_EXTRA_CA_CERTS=/path/root.pem at process start.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] },
        client: { trust: [] },
        fixed: { client: { trust: [await pki.rootCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'self-signed-leaf',
    family: 'trust',
    title: 'Self-signed server certificate',
    cause:
      'The server presents a single certificate that signed itself (e.g. from `selfsigned` or ' +
      '`openssl req -x509`). There is no CA to trust, so verification stops at depth zero.',
    fix:
      'For development, trust that exact certificate (`ca: [cert]` or NODE_EXTRA_CA_CERTS). For anything shared, ' +
      'issue the server certificate from a CA and trust the CA.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.selfSignedLeaf()] },
        client: { trust: [await pki.rootCa()] },
        fixed: { client: { trust: [await pki.selfSignedLeaf()] } },
      };
    },
  }),
];
