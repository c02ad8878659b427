import { certificate, localLeaf, revocationList, type Pki } from '../../certs/index.ts';
import { OK, fails } from '../expect.ts';
import { ALL_OK, certificateProblem } from '../expect-tools.ts';
import { defineScenario, fixed, leafServed, pems } from '../scenario.ts';

/** A leaf the intermediate has revoked, and the CRLs of the whole chain: the intermediate's, which lists it, and the root's. */
async function revokedLeaf(pki: Pki) {
  const intermediate = await pki.intermediateCa();
  const revoked = await localLeaf('localhost').label('revoked leaf').issuedBy(intermediate).build();
  return { revoked, crl: [await revocationList(intermediate, [revoked]), await revocationList(await pki.rootCa())] };
}

export const revocationScenarios = [
  defineScenario({
    id: 'revoked-leaf',
    family: 'revocation',
    title: 'Revoked server certificate, client checks CRLs for the whole chain',
    cause:
      "The server's certificate was revoked (here: key compromise): its serial is on the issuing CA's CRL. The " +
      "client gives Node a CRL for every CA of the chain (the `crl` option), so OpenSSL finds the leaf's serial " +
      'and refuses the chain.',
    fix:
      'On the server: replace the certificate — new key, new certificate — and stop serving the revoked one. ' +
      'Nothing is wrong with the client.',
    expect: 'reject',
    // The client keeps checking the same CRLs; the replacement certificate is not on them.
    setup: async (pki) => {
      const { revoked, crl } = await revokedLeaf(pki);
      return leafServed(pki, revoked, { client: { crl } });
    },
    node: [
      { expect: fails('CERT_REVOKED', 'certificate revoked') },
      {
        // Node's verify callback lets OpenSSL check the whole chain and reports the last error: the missing root CRL,
        // checked after the leaf, hides the revocation (crl-for-issuer-only).
        title: "a client with the issuing CA's CRL only: UNABLE_TO_GET_CRL hides the revocation",
        client: (material) => ({ crl: material.client.crl?.slice(0, 1) }),
        expect: fails('UNABLE_TO_GET_CRL', 'unable to get certificate CRL'),
      },
      fixed('a replacement certificate, same CRLs on the client'),
    ],
    tools: certificateProblem(23, 'certificate revoked', 'certificate revoked'),
  }),
  defineScenario({
    id: 'revoked-intermediate',
    family: 'revocation',
    title: 'Server certificate issued by a revoked intermediate CA',
    cause:
      "The leaf itself is not revoked, but the intermediate CA that issued it is: the root's CRL lists the " +
      "intermediate's serial. Revoking a CA certificate revokes everything under it, and the error does not say " +
      'which certificate of the chain is revoked.',
    fix: "On the server: get a certificate from a CA that is not revoked and serve it with that CA's intermediate.",
    expect: 'reject',
    async setup(pki) {
      const root = await pki.rootCa();
      const revokedIntermediate = await certificate('tls-harness Revoked Intermediate CA')
        .label('revoked intermediate')
        .ca({ pathLength: 0 })
        .validDays(-30, 3650)
        .issuedBy(root)
        .build();
      const leaf = await localLeaf('localhost').issuedBy(revokedIntermediate).build();
      const rootCrl = await revocationList(root, [revokedIntermediate]);
      return {
        server: { chain: [leaf, revokedIntermediate] },
        client: { ca: pems(root), crl: [rootCrl, await revocationList(revokedIntermediate)] },
        fixed: {
          server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] },
          client: { ca: pems(root), crl: [rootCrl, await revocationList(await pki.intermediateCa())] },
        },
      };
    },
    node: [{ expect: fails('CERT_REVOKED', 'certificate revoked') }, fixed('a certificate from an intermediate that is not revoked')],
    tools: certificateProblem(23, 'certificate revoked', 'certificate revoked'),
  }),
  defineScenario({
    id: 'crl-for-issuer-only',
    family: 'revocation',
    title: "Client passes the issuing CA's CRL only",
    cause:
      "The client wants to check the server certificate against its issuer's CRL and passes that one CRL as " +
      "`crl`. Node then turns on CRL checking for every certificate of the chain (OpenSSL's CRL_CHECK and " +
      'CRL_CHECK_ALL), so the intermediate must be checked against a CRL from the root, which the client does not ' +
      'have: every connection fails, even to a server whose certificate is fine. A revoked leaf checked with that ' +
      "single CRL is reported the same way, not as CERT_REVOKED: Node's verify callback lets OpenSSL check the whole " +
      'chain and reports the last error, so the missing root CRL (checked after the leaf) hides the revocation.',
    fix: "Pass a CRL for every CA in the chain: the intermediate's CRL and the root's CRL.",
    expect: 'reject',
    async setup(pki) {
      const intermediate = await pki.intermediateCa();
      const issuerCrl = await revocationList(intermediate);
      return {
        server: { chain: [await pki.serverLeaf(), intermediate] },
        client: { ca: pems(await pki.rootCa()), crl: [issuerCrl] },
        fixed: { client: { ca: pems(await pki.rootCa()), crl: [issuerCrl, await revocationList(await pki.rootCa())] } },
      };
    },
    node: [{ expect: fails('UNABLE_TO_GET_CRL', 'unable to get certificate CRL') }, fixed("the root's CRL as well")],
    tools: certificateProblem(3, 'unable to get certificate CRL', 'unknown CA'),
  }),
  defineScenario({
    id: 'revoked-no-crl',
    family: 'revocation',
    title: 'Revoked server certificate, client given no CRL',
    cause:
      'The server certificate is revoked, but the client has no CRL. Node never fetches revocation information ' +
      'itself (no CRL distribution point download, no OCSP request, no OCSP stapling check by default), so without ' +
      'the `crl` option it cannot know and accepts the certificate. A strict client must reject it.',
    fix:
      'On the server: replace the revoked certificate. On the client, to notice revocation at all: download the ' +
      "CRLs of the chain's CAs and pass them as `crl`, kept fresh (or check OCSP yourself: a stapled OCSP response is " +
      'only requested with `requestOCSP: true`, and handed over unverified in the `OCSPResponse` event). Browsers do ' +
      "not fetch CRLs per connection either: they rely on revocation data their vendor pushes (Chrome's CRLSets, " +
      "Firefox's CRLite).",
    expect: 'reject',
    // Both halves of the fix: a replacement certificate, and a client that checks the CRLs (and so would notice).
    setup: async (pki) => {
      const { revoked, crl } = await revokedLeaf(pki);
      return leafServed(pki, revoked, { fixedClient: { crl } });
    },
    // The certificate names no CRL distribution point or OCSP responder: its revocation is knowable only from the CRLs
    // its fix hands the client, so a client given only host, port and CA cannot be graded on it.
    needs: { crl: "the certificate's revocation is known only from the CRLs its fix gives the client" },
    node: [
      { title: 'Node accepts the revoked certificate', expect: OK },
      {
        title: 'a client given the CRLs notices',
        client: (material) => ({ crl: material.fixed?.client?.crl }),
        expect: fails('CERT_REVOKED', 'certificate revoked'),
      },
      fixed('a replacement certificate, checked against the CRLs'),
    ],
    // None of the three fetches CRLs (or checks OCSP) by itself either.
    tools: ALL_OK,
  }),
  defineScenario({
    id: 'expired-crl',
    family: 'revocation',
    title: 'Client checks against a CRL past its nextUpdate',
    cause:
      "The client's copy of the issuing CA's CRL is stale: its nextUpdate is in the past (here: a week ago). A " +
      'stale CRL cannot say whether a certificate was revoked since, so OpenSSL refuses the chain — even a good one.',
    fix:
      'Refresh the CRLs before nextUpdate (re-download from the CRL distribution point on a schedule) and pass the ' +
      'current ones as `crl`. On the CA side: publish a new CRL well before the old one expires.',
    expect: 'reject',
    async setup(pki) {
      const intermediate = await pki.intermediateCa();
      const rootCrl = await revocationList(await pki.rootCa());
      const staleCrl = await revocationList(intermediate, [], { fromDays: -14, toDays: -7 });
      return {
        server: { chain: [await pki.serverLeaf(), intermediate] },
        client: { ca: pems(await pki.rootCa()), crl: [staleCrl, rootCrl] },
        fixed: { client: { ca: pems(await pki.rootCa()), crl: [await revocationList(intermediate), rootCrl] } },
      };
    },
    node: [{ expect: fails('CRL_HAS_EXPIRED', 'CRL has expired') }, fixed('a current CRL')],
    tools: certificateProblem(12, 'CRL has expired', 'certificate expired'),
  }),
  defineScenario({
    id: 'crl-not-yet-valid',
    family: 'revocation',
    title: 'Client checks against a CRL whose thisUpdate is in the future',
    cause:
      "The issuing CA's CRL says it was issued tomorrow (thisUpdate in the future): the CA's clock is ahead, or the " +
      "client's is behind. OpenSSL will not use a CRL that is not yet valid, and refuses the chain.",
    fix: 'Sync the clocks (NTP) of the CA and the client; the CA should publish CRLs with thisUpdate = now.',
    expect: 'reject',
    async setup(pki) {
      const intermediate = await pki.intermediateCa();
      const rootCrl = await revocationList(await pki.rootCa());
      const futureCrl = await revocationList(intermediate, [], { fromDays: 1, toDays: 8 });
      return {
        server: { chain: [await pki.serverLeaf(), intermediate] },
        client: { ca: pems(await pki.rootCa()), crl: [futureCrl, rootCrl] },
        fixed: { client: { ca: pems(await pki.rootCa()), crl: [await revocationList(intermediate), rootCrl] } },
      };
    },
    node: [{ expect: fails('CRL_NOT_YET_VALID', 'CRL is not yet valid') }, fixed('a CRL that is valid now')],
    tools: certificateProblem(11, 'CRL is not yet valid', 'bad certificate'),
  }),
];
