import { certificate, localLeaf } from '../../certs/index.ts';
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
  defineScenario({
    id: 'missing-intermediate',
    family: 'trust',
    title: 'Server sends its leaf without the intermediate CA',
    cause:
      'The server is configured with the leaf certificate alone (cert.pem instead of fullchain.pem). The client ' +
      'trusts the root, but nothing links the leaf to it: the intermediate that issued the leaf is neither sent ' +
      'nor in the trust store. Browsers often hide this mistake — they cache intermediates and fetch missing ones ' +
      "from the leaf's Authority Information Access URL — but OpenSSL, and so Node, never fetches anything.",
    fix:
      'On the server: send the full chain, leaf first, then the intermediate(s) (fullchain.pem; `cert: leaf + ' +
      'intermediate` in Node). A client-side workaround, when the server is not yours: add the intermediate to `ca`.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.serverLeaf()] },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'unknown-issuer-leaf-only',
    family: 'trust',
    title: "Leaf issued straight from a private root, checked against Node's default root store",
    cause:
      'The server sends a single certificate issued directly by a private root (as mkcert and many internal CAs ' +
      "do). The client uses Node's bundled Mozilla roots, which do not know that root. With no CA certificate in " +
      'the chain at all, OpenSSL reports the failure at the leaf: it cannot verify its signature.',
    fix:
      'Give the client the private root: `ca: [root]`, `ca: [...tls.rootCertificates, root]`, or ' +
      'NODE_EXTRA_CA_CERTS=/path/root.pem at process start (for mkcert: `mkcert -CAROOT`/rootCA.pem).',
    expect: 'reject',
    async setup(pki) {
      const leaf = await localLeaf('localhost').label('leaf issued by the root').issuedBy(await pki.rootCa()).build();
      return {
        server: { chain: [leaf] },
        client: { trust: [] },
        fixed: { client: { trust: [await pki.rootCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'only-intermediate-trusted',
    family: 'trust',
    title: 'Client trusts the intermediate CA but not the root',
    cause:
      'The client was given the intermediate as its only CA (e.g. the "CA certificate" someone exported from the ' +
      "server's chain). OpenSSL will not stop at a trusted certificate that is not self-signed: it keeps looking " +
      "for the intermediate's issuer, the root, and finds it nowhere.",
    fix:
      'Trust the root instead (`ca: [root]`). If only the intermediate may be trusted, Node ≥ 20.18 / 22.9 accepts ' +
      'a chain that ends in it with `allowPartialTrustChain: true`.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] },
        client: { trust: [await pki.intermediateCa()] },
        fixed: { client: { trust: [await pki.rootCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'intermediate-sent-twice',
    family: 'trust',
    title: 'Server sends the intermediate twice',
    cause:
      'The chain file holds the intermediate twice (fullchain.pem concatenated with chain.pem). The duplicate is ' +
      'harmless: the client uses the certificates it needs and ignores the rest.',
    fix: 'Nothing breaks; drop the duplicate to save a few hundred bytes per handshake.',
    expect: 'accept',
    async setup(pki) {
      return {
        server: { chain: [await pki.serverLeaf(), await pki.intermediateCa(), await pki.intermediateCa()] },
        client: { trust: [await pki.rootCa()] },
      };
    },
  }),
  defineScenario({
    id: 'chain-out-of-order',
    family: 'trust',
    title: 'Intermediates sent in the wrong order (top intermediate before the issuing one)',
    cause:
      'The leaf comes first, but the two intermediates after it are reversed. TLS 1.2 demanded issuer order; ' +
      'TLS 1.3 (RFC 8446 §4.4.2) lets clients accept any order after the leaf, and OpenSSL builds the path from ' +
      'the set it receives in either version. The leaf itself cannot be misplaced by a Node server: it must be the ' +
      'first certificate of `cert`, because that one is paired with `key`.',
    fix: 'Nothing breaks for Node; order the chain leaf → issuing intermediate → higher intermediates for strict clients.',
    expect: 'accept',
    async setup(pki) {
      const top = await certificate('tls-harness Policy CA').ca({ pathLength: 1 }).validDays(-1, 3650).issuedBy(await pki.rootCa()).build();
      const issuing = await certificate('tls-harness Issuing CA').ca({ pathLength: 0 }).validDays(-1, 3650).issuedBy(top).build();
      const leaf = await localLeaf('localhost').issuedBy(issuing).build();
      return {
        server: { chain: [leaf, top, issuing] },
        client: { trust: [await pki.rootCa()] },
      };
    },
  }),
  defineScenario({
    id: 'cross-signed-expired-root',
    family: 'trust',
    title: 'Chain cross-signed by an expired root, and the client trusts only that old root',
    cause:
      "The server sends leaf, issuing CA, and its new root cross-signed by an older root — Let's Encrypt's chain " +
      'in 2021: R3, then ISRG Root X1 cross-signed by DST Root CA X3. The old root has expired. A client whose ' +
      'store holds only the old root (an old device, a stale bundle pinned with `ca`) builds the path up to it and ' +
      'fails on its date. A client that trusts the new root stops there (OpenSSL ≥ 1.1.1 tries trusted ' +
      'certificates first) and ignores the cross-signed copy.',
    fix:
      'On the client: add the new root to the trust store (update the CA bundle, or `ca: [newRoot]`). On the ' +
      "server: stop sending the cross-signed certificate once clients have the new root (Let's Encrypt's short chain).",
    expect: 'reject',
    async setup() {
      const oldRoot = await certificate('tls-harness Old Root CA').label('expired old root').ca().validDays(-3650, -30).build();
      const newRoot = await certificate('tls-harness New Root CA').ca().validDays(-365, 3650).build();
      // Same subject and key as the new root, issued by the old one: the cross-signed certificate.
      const crossSigned = await certificate('tls-harness New Root CA')
        .label('new root cross-signed by the old root')
        .ca()
        .key(newRoot.key)
        .validDays(-365, 365)
        .issuedBy(oldRoot)
        .build();
      const issuing = await certificate('tls-harness Issuing CA R3').ca({ pathLength: 0 }).validDays(-30, 365).issuedBy(newRoot).build();
      const leaf = await localLeaf('localhost').issuedBy(issuing).build();
      return {
        server: { chain: [leaf, issuing, crossSigned] },
        client: { trust: [oldRoot] },
        fixed: { client: { trust: [newRoot] } },
      };
    },
  }),
];
