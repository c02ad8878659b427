import { certificate, localLeaf, revocationList } from '../../certs/index.ts';
import { defineScenario } from '../scenario.ts';

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
    async setup(pki) {
      const intermediate = await pki.intermediateCa();
      const revoked = await localLeaf('localhost').label('revoked leaf').issuedBy(intermediate).build();
      const crl = [await revocationList(intermediate, [revoked]), await revocationList(await pki.rootCa())];
      return {
        server: { chain: [revoked, intermediate] },
        client: { trust: [await pki.rootCa()], crl },
        // The client keeps checking the same CRLs; the replacement certificate is not on them.
        fixed: { server: { chain: [await pki.serverLeaf(), intermediate] } },
      };
    },
  }),
  defineScenario({
    id: 'revoked-intermediate',
    family: 'revocation',
    title: 'Server certificate issued by a revoked intermediate CA',
    cause:
      "The leaf itself is not revoked, but the intermediate CA that issued it is: the root's CRL lists the " +
      "intermediate's serial. Revoking a CA certificate revokes everything under it.",
    fix:
      "On the server: get a certificate from a CA that is not revoked and serve it with that CA's intermediate.",
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
        client: { trust: [root], crl: [rootCrl, await revocationList(revokedIntermediate)] },
        fixed: {
          server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] },
          client: { trust: [root], crl: [rootCrl, await revocationList(await pki.intermediateCa())] },
        },
      };
    },
  }),
  defineScenario({
    id: 'crl-for-issuer-only',
    family: 'revocation',
    title: "Client passes the issuing CA's CRL only",
    cause:
      "The client wants to check the server certificate against its issuer's CRL and passes that one CRL as " +
      "`crl`. Node then turns on CRL checking for every certificate of the chain (OpenSSL's CRL_CHECK and " +
      'CRL_CHECK_ALL), so the intermediate must be checked against a CRL from the root, which the client does not ' +
      'have: every connection fails, even to a server whose certificate is fine.',
    fix: "Pass a CRL for every CA in the chain: the intermediate's CRL and the root's CRL.",
    expect: 'reject',
    async setup(pki) {
      const intermediate = await pki.intermediateCa();
      const issuerCrl = await revocationList(intermediate);
      return {
        server: { chain: [await pki.serverLeaf(), intermediate] },
        client: { trust: [await pki.rootCa()], crl: [issuerCrl] },
        fixed: { client: { trust: [await pki.rootCa()], crl: [issuerCrl, await revocationList(await pki.rootCa())] } },
      };
    },
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
      "CRLs of the chain's CAs and pass them as `crl` (or check OCSP yourself, e.g. the `OCSPResponse` event).",
    expect: 'reject',
    async setup(pki) {
      const intermediate = await pki.intermediateCa();
      const revoked = await localLeaf('localhost').label('revoked leaf').issuedBy(intermediate).build();
      const crl = [await revocationList(intermediate, [revoked]), await revocationList(await pki.rootCa())];
      return {
        server: { chain: [revoked, intermediate] },
        client: { trust: [await pki.rootCa()] },
        // Both halves: a replacement certificate, and a client that checks the CRLs (and so would notice).
        fixed: {
          server: { chain: [await pki.serverLeaf(), intermediate] },
          client: { trust: [await pki.rootCa()], crl },
        },
      };
    },
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
        client: { trust: [await pki.rootCa()], crl: [staleCrl, rootCrl] },
        fixed: { client: { trust: [await pki.rootCa()], crl: [await revocationList(intermediate), rootCrl] } },
      };
    },
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
        client: { trust: [await pki.rootCa()], crl: [futureCrl, rootCrl] },
        fixed: { client: { trust: [await pki.rootCa()], crl: [await revocationList(intermediate), rootCrl] } },
      };
    },
  }),
];
