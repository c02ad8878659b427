import { defineScenario } from '../scenario.ts';

export const clientCertificateScenarios = [
  defineScenario({
    id: 'missing-client-cert',
    family: 'client-certificates',
    title: 'Server requires a client certificate, client sends none',
    cause:
      'The server asks for a client certificate (mutual TLS, `requestCert` + `rejectUnauthorized`) and the client ' +
      'has none configured. In TLS 1.3 the client finishes its side of the handshake first, so the refusal arrives ' +
      'as an alert after secureConnect; in TLS 1.2 it arrives during the handshake.',
    fix: 'Give the client its certificate and key (`cert` and `key` options, or `pfx`), issued by a CA the server trusts.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: {
          chain: [await pki.serverLeaf(), await pki.intermediateCa()],
          clientAuth: { trust: [await pki.clientCa()], mode: 'require' },
        },
        client: { trust: [await pki.rootCa()] },
        fixed: { client: { trust: [await pki.rootCa()], present: await pki.clientCert() } },
      };
    },
  }),
];
