import { OK } from '../expect.ts';
import { ALL_OK } from '../expect-tools.ts';
import { defineScenario, leafServed } from '../scenario.ts';

export const controlScenarios = [
  defineScenario({
    id: 'healthy',
    family: 'control',
    title: 'Healthy server: valid leaf for localhost, sent with its intermediate',
    cause:
      'Nothing is wrong: this is the reference every failure is compared with. Each failure of the catalog differs ' +
      'from this endpoint in exactly one way, so a client that fails here is misconfigured, and a failure elsewhere ' +
      "is the scenario's, not the harness's.",
    fix: 'Nothing to fix. Trust the issuing root (the `ca` option) and connect by the name on the certificate.',
    expect: 'accept',
    setup: async (pki) => leafServed(pki, await pki.serverLeaf(), { fixedLeaf: null }),
    node: [
      { expect: OK },
      {
        // Node reads NODE_EXTRA_CA_CERTS at start-up only: these probes run in a fresh Node that has it.
        title: 'NODE_EXTRA_CA_CERTS=<the root> at start-up, and no `ca` option',
        client: (material) => ({ ca: undefined, env: { NODE_EXTRA_CA_CERTS: { pem: (material.client.ca ?? []).join('') } } }),
        expect: OK,
      },
    ],
    tools: { ...ALL_OK, urllib: OK },
  }),
];
