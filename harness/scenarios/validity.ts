import { defineScenario } from '../scenario.ts';

export const validityScenarios = [
  defineScenario({
    id: 'expired-leaf',
    family: 'validity',
    title: 'Expired server certificate',
    cause:
      "The server's certificate has a notAfter date in the past. Every chain check compares validity with the " +
      "client's clock, so an otherwise perfect chain is refused the moment the certificate lapses.",
    fix: 'Renew the certificate and reload the server (automate renewal, e.g. ACME). Check the client clock too.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.expiredLeaf(), await pki.intermediateCa()] },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
];
