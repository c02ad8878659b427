import { defineScenario } from '../scenario.ts';

export const controlScenarios = [
  defineScenario({
    id: 'healthy',
    family: 'control',
    title: 'Healthy server: valid leaf for localhost, sent with its intermediate',
    cause: 'Nothing is wrong: this is the reference every failure is compared with.',
    fix: 'Nothing to fix. Trust the issuing root (the `ca` option) and connect by the name on the certificate.',
    expect: 'accept',
    async setup(pki) {
      return {
        server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] },
        client: { trust: [await pki.rootCa()] },
      };
    },
  }),
];
