import { defineScenario } from '../scenario.ts';

export const hostnameScenarios = [
  defineScenario({
    id: 'wrong-host',
    family: 'hostname',
    title: 'Certificate issued for another host name',
    cause:
      "The chain is trusted, but the certificate's subjectAltName does not list the name the client connected to " +
      "(here the client asks for localhost and the certificate only names wrong.host.example). Node's " +
      'checkServerIdentity rejects it after the chain has verified.',
    fix:
      'Connect by a name the certificate carries, or reissue the certificate with the right SAN entry ' +
      '(a DNS name, or an IP address SAN for IP literals).',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [await pki.wrongHostLeaf(), await pki.intermediateCa()] },
        client: { trust: [await pki.rootCa()] },
        // Reissued with the name the client uses; connecting as wrong.host.example works too (see the spec).
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
];
