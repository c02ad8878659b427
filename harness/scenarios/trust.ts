import { rootCertificates } from 'node:tls';
import { certificate, localLeaf } from '../../certs/index.ts';
import { OK, fails, verifyFails } from '../expect.ts';
import { ALL_OK, certificateProblem } from '../expect-tools.ts';
import { defineScenario, fixed, leafServed, pems, type NodeCase, type ScenarioMaterial } from '../scenario.ts';

/** The fix's CAs after Node's bundled roots: a client that trusts the private root and keeps the public ones. */
function withPublicRoots(material: ScenarioMaterial) {
  return { ca: [...rootCertificates, ...(material.fixed?.client?.ca ?? [])] };
}

/**
 * NODE_EXTRA_CA_CERTS=<file> adds the file's CAs to Node's default roots for every client of the process — tls,
 * https and the global fetch alike, with no code change. Node reads it at start-up only (setting process.env later
 * does nothing), so these probes run in a fresh Node that has it, given the CAs the scenario's fix trusts.
 */
function extraCaCerts(material: ScenarioMaterial) {
  return { ca: undefined, env: { NODE_EXTRA_CA_CERTS: { pem: (material.fixed?.client?.ca ?? []).join('') } } };
}
const EXTRA_CA_CERTS_FIX: NodeCase = {
  title: 'fix: NODE_EXTRA_CA_CERTS=<the root> at start-up, and no `ca` option',
  client: extraCaCerts,
  expect: OK,
};

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
        server: { chain: [await pki.untrustedLeaf(), await pki.untrustedIntermediateCa(), await pki.untrustedRootCa()] },
        client: { ca: pems(await pki.rootCa()) },
        fixed: { client: { ca: pems(await pki.untrustedRootCa()) } },
      };
    },
    node: [
      { expect: verifyFails('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain') },
      fixed('trust the root with the `ca` option'),
      EXTRA_CA_CERTS_FIX,
    ],
    tools: certificateProblem(19, 'self-signed certificate in certificate chain', 'unknown CA'),
  }),
  defineScenario({
    id: 'private-ca-default-store',
    family: 'trust',
    title: "Private CA checked against Node's default root store",
    cause:
      "The server sends leaf and intermediate, issued by a private root. The client uses Node's bundled Mozilla " +
      'roots (no `ca` option), which do not include that root, so the issuer of the top certificate is not found. ' +
      '(Typical behind a corporate TLS-inspecting proxy.)',
    fix:
      'Give the client the private root: `ca: [root]`, or `ca: [...tls.rootCertificates, root]` to keep the public ' +
      'roots as well, or NODE_EXTRA_CA_CERTS=/path/root.pem at process start.',
    expect: 'reject',
    setup: async (pki) =>
      leafServed(pki, await pki.serverLeaf(), {
        client: { ca: undefined },
        fixedLeaf: null,
        fixedClient: { ca: pems(await pki.rootCa()) },
      }),
    node: [
      { expect: verifyFails('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate') },
      fixed('`ca: [root]`'),
      fixed('`ca: [...tls.rootCertificates, root]` keeps the public roots', { client: withPublicRoots }),
      EXTRA_CA_CERTS_FIX,
      {
        title: 'NODE_EXTRA_CA_CERTS=<the root>, and `ca: tls.rootCertificates`: `ca` replaces the default store, the extra CAs with it',
        client: (material) => ({ ...extraCaCerts(material), ca: [...rootCertificates] }),
        expect: verifyFails('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'),
      },
    ],
    tools: certificateProblem(20, 'unable to get local issuer certificate', 'unknown CA'),
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
        client: { ca: pems(await pki.rootCa()) },
        fixed: { client: { ca: pems(await pki.selfSignedLeaf()) } },
      };
    },
    node: [
      { expect: verifyFails('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate') },
      fixed('trust the certificate itself with `ca`'),
      EXTRA_CA_CERTS_FIX,
    ],
    tools: certificateProblem(18, 'self-signed certificate', 'unknown CA'),
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
        client: { ca: pems(await pki.rootCa()) },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
    node: [
      { expect: verifyFails('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate') },
      fixed('the server sends leaf + intermediate'),
      {
        title: 'workaround on the client: `ca: [root, intermediate]`',
        client: (material) => ({ ca: [...(material.client.ca ?? []), ...pems(...(material.fixed?.server?.chain.slice(1) ?? []))] }),
        expect: OK,
      },
    ],
    // Node reports UNABLE_TO_VERIFY_LEAF_SIGNATURE (21); the tools stop at the first error, 20 (the leaf's issuer is
    tools:
      // found nowhere), before OpenSSL would go on to report that it cannot check the leaf's signature.
      certificateProblem(20, 'unable to get local issuer certificate', 'unknown CA'),
  }),
  defineScenario({
    id: 'unknown-issuer-leaf-only',
    family: 'trust',
    title: "Leaf issued straight from a private root, checked against Node's default root store",
    cause:
      'The server sends a single certificate issued directly by a private root (as mkcert and many internal CAs ' +
      "do). The client uses Node's bundled Mozilla roots, which do not know that root. With no CA certificate in " +
      'the chain at all, OpenSSL reports the failure at the leaf — it cannot verify its signature — and not the ' +
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY of private-ca-default-store, although the cause is the same unknown root.',
    fix:
      'Give the client the private root: `ca: [root]`, `ca: [...tls.rootCertificates, root]`, or ' +
      'NODE_EXTRA_CA_CERTS=/path/root.pem at process start (for mkcert: `mkcert -CAROOT`/rootCA.pem).',
    expect: 'reject',
    async setup(pki) {
      const leaf = await localLeaf('localhost')
        .label('leaf issued by the root')
        .issuedBy(await pki.rootCa())
        .build();
      return {
        server: { chain: [leaf] },
        client: {},
        fixed: { client: { ca: pems(await pki.rootCa()) } },
      };
    },
    node: [
      { expect: verifyFails('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate') },
      fixed('`ca: [root]`'),
      fixed('`ca: [...tls.rootCertificates, root]` keeps the public roots', { client: withPublicRoots }),
    ],
    tools: certificateProblem(20, 'unable to get local issuer certificate', 'unknown CA'),
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
    setup: async (pki) =>
      leafServed(pki, await pki.serverLeaf(), {
        client: { ca: pems(await pki.intermediateCa()) },
        fixedLeaf: null,
        fixedClient: { ca: pems(await pki.rootCa()) },
      }),
    node: [
      { expect: verifyFails('UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate') },
      fixed('trust the root (`ca: [root]`)'),
      {
        title: 'fix: keep `ca: [intermediate]` and set `allowPartialTrustChain: true`',
        client: { allowPartialTrustChain: true },
        expect: OK,
      },
    ],
    tools: {
      ...certificateProblem(2, 'unable to get issuer certificate', 'unknown CA'),
      // curl accepts: since 7.68 it sets X509_V_FLAG_PARTIAL_CHAIN, so a trusted intermediate ends the chain (Node's
      // allowPartialTrustChain). s_client and Python 3.11 do not (Python 3.13's create_default_context does).
      curl: OK,
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
        client: { ca: pems(await pki.rootCa()) },
      };
    },
    node: [{ expect: OK }],
    tools: ALL_OK,
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
      const top = await certificate('tls-harness Policy CA')
        .ca({ pathLength: 1 })
        .validDays(-1, 3650)
        .issuedBy(await pki.rootCa())
        .build();
      const issuing = await certificate('tls-harness Issuing CA').ca({ pathLength: 0 }).validDays(-1, 3650).issuedBy(top).build();
      const leaf = await localLeaf('localhost').issuedBy(issuing).build();
      return {
        server: { chain: [leaf, top, issuing] },
        client: { ca: pems(await pki.rootCa()) },
      };
    },
    node: [{ expect: OK }],
    tools: ALL_OK,
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
        client: { ca: pems(oldRoot) },
        fixed: { client: { ca: pems(newRoot) } },
      };
    },
    node: [
      { expect: fails('CERT_HAS_EXPIRED', 'certificate has expired') },
      fixed('trust the new root'),
      {
        title: 'fix: trust the new root next to the expired old one (`ca: [oldRoot, newRoot]`)',
        client: (material) => ({ ca: [...(material.client.ca ?? []), ...(material.fixed?.client?.ca ?? [])] }),
        expect: OK,
      },
    ],
    tools: certificateProblem(10, 'certificate has expired', 'certificate expired'),
  }),
];
