import { certificate, dhParametersPem, localLeaf, newKeyPair } from '../../certs/index.ts';
import { defineScenario } from '../scenario.ts';

/** OpenSSL security level 0: lets a server load (and a client accept) what level 1 refuses. */
const SECURITY_LEVEL_0 = 'DEFAULT@SECLEVEL=0';

/**
 * OpenSSL security level 1 (80 bits), set on purpose by servers that serve 80-bit material (RSA-1024, DH-1024). Node's
 * default level differs by build — 1 on Node 20 and 22, 2 on Node 24+ (see specs/support/runtime.ts) — and at level 2
 * a Node server refuses to load such a key or group at all. Setting the level explicitly makes the server serve the
 * same weak material on every Node, so the scenario is about what the *client* does with it.
 */
const SECURITY_LEVEL_1 = 'DEFAULT@SECLEVEL=1';

export const cryptoStrengthScenarios = [
  defineScenario({
    id: 'sha1-signed-leaf',
    family: 'crypto-strength',
    title: 'Server certificate signed with SHA-1',
    cause:
      'The CA signed the leaf with ecdsa-with-SHA1. SHA-1 collisions are practical (SHAttered, 2017), so OpenSSL 3 ' +
      "rates SHA-1 signatures below security level 1 (and so below Node's default, level 1 or 2), and refuses the " +
      "signature on the leaf. Node has no code for this error and reports UNSPECIFIED with OpenSSL's reason. (The " +
      'server here runs at SECLEVEL=0: a Node 20 server refuses to load such a certificate at all.)',
    fix: 'Reissue the certificate with a SHA-256 signature (any CA has done so by default since 2016).',
    expect: 'reject',
    async setup(pki) {
      const sha1Leaf = await localLeaf('localhost')
        .label('SHA-1 signed leaf')
        .signatureHash('SHA-1')
        .issuedBy(await pki.intermediateCa())
        .build();
      return {
        server: { chain: [sha1Leaf, await pki.intermediateCa()], ciphers: SECURITY_LEVEL_0 },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'sha1-signed-intermediate',
    family: 'crypto-strength',
    title: 'Intermediate CA certificate signed with SHA-1',
    cause:
      'The leaf is signed with SHA-256, but the root signed the intermediate with SHA-1. Every signature in the ' +
      "chain is held to the security level, except the trust anchor's own self-signature (a trusted root is " +
      'trusted for its key, not its signature).',
    fix: 'Serve the SHA-256 reissue of the intermediate (CAs reissued theirs when SHA-1 was retired).',
    expect: 'reject',
    async setup(pki) {
      const sha1Intermediate = await certificate('tls-harness SHA-1 Intermediate CA')
        .ca({ pathLength: 0 })
        .signatureHash('SHA-1')
        .validDays(-1, 365)
        .issuedBy(await pki.rootCa())
        .build();
      return {
        server: {
          chain: [await localLeaf('localhost').issuedBy(sha1Intermediate).build(), sha1Intermediate],
          ciphers: SECURITY_LEVEL_0,
        },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'rsa-512-leaf',
    family: 'crypto-strength',
    title: 'Server certificate with a 512-bit RSA key',
    cause:
      'A 512-bit RSA key can be factored in hours. OpenSSL refuses keys under 1024 bits at security level 1, so ' +
      'the server must drop to SECLEVEL=0 to serve it at all. Over TLS 1.2 the client then refuses the key while ' +
      'verifying the chain. Over TLS 1.3 the handshake fails earlier, at the server: TLS 1.3 signs with RSA-PSS ' +
      'only, and RSA-PSS with SHA-256 needs at least a 528-bit key, so the server has no signature algorithm it ' +
      'can use and sends a handshake-failure alert.',
    fix: 'Generate a new key — EC P-256, or RSA of at least 2048 bits — and reissue the certificate.',
    expect: 'reject',
    async setup(pki) {
      const weak = await localLeaf('localhost')
        .label('RSA-512 leaf')
        .key({ type: 'rsa', bits: 512 })
        .issuedBy(await pki.intermediateCa())
        .build();
      return {
        server: { chain: [weak, await pki.intermediateCa()], ciphers: SECURITY_LEVEL_0 },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'rsa-1024-leaf',
    family: 'crypto-strength',
    title: 'Server certificate with a 1024-bit RSA key (Node 20 and 22 accept it, Node 24+ refuse it)',
    cause:
      'RSA-1024 gives about 80 bits of security; public CAs stopped issuing it in 2013 and NIST disallowed it ' +
      'after 2013. Whether Node accepts it depends on the OpenSSL security level it runs at by default: level 1 ' +
      '(80 bits) on Node 20 and 22, which accept it; level 2 (112 bits) on Node 24.5+ (OpenSSL 3.5 with its own ' +
      'default), which refuse it with "EE certificate key too weak". The server here sets SECLEVEL=1 to serve the ' +
      'key on purpose: a Node 24+ server at its default level refuses to load it ("ee key too small").',
    fix:
      'Generate a new key — EC P-256, or RSA of at least 2048 bits — and reissue the certificate. Clients that ' +
      'must refuse weak keys on every Node set their level explicitly (`ciphers: "DEFAULT@SECLEVEL=2"`).',
    expect: 'reject',
    async setup(pki) {
      const weak = await localLeaf('localhost')
        .label('RSA-1024 leaf')
        .key({ type: 'rsa', bits: 1024 })
        .issuedBy(await pki.intermediateCa())
        .build();
      return {
        // SECLEVEL=1: the 1024-bit key is served on purpose, on every Node (see SECURITY_LEVEL_1).
        server: { chain: [weak, await pki.intermediateCa()], ciphers: SECURITY_LEVEL_1 },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: [await pki.serverLeaf(), await pki.intermediateCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'dhe-1024',
    family: 'crypto-strength',
    title: 'TLS 1.2 DHE key exchange with a 1024-bit group, client requires 2048 bits',
    cause:
      'The server offers only DHE for TLS 1.2 (DHE-RSA-AES128-GCM-SHA256) with 1024-bit DH parameters (Oakley ' +
      'group 2, the Logjam-era default), at SECLEVEL=1 on purpose (at level 2 a Node server refuses to load them). ' +
      'The client sets `minDHSize: 2048`. At security level 1 (Node 20 and 22) OpenSSL accepts the group and Node ' +
      "itself refuses it after the handshake (ERR_TLS_DH_PARAM_SIZE); Node's default minDHSize of 1024 would let " +
      'it through. At level 2 (Node 24+) OpenSSL refuses any DH group under 2048 bits during the handshake ' +
      '(ERR_SSL_DH_KEY_TOO_SMALL "dh key too small"), whatever minDHSize says.',
    fix:
      'On the server: use ECDHE suites, or DH parameters of at least 2048 bits (`dhparam` with RFC 3526 group 14 ' +
      'or ffdhe2048, or `dhparam: "auto"`).',
    expect: 'reject',
    async setup(pki) {
      // DHE suites authenticate with RSA; the key is about the DH group, so it is a sound 2048 bits. Its primes are
      // searched on the thread pool (certs/rsa.ts, ~40 ms): the search starts before anything is awaited.
      const rsaKey = newKeyPair({ type: 'rsa', bits: 2048 });
      const intermediate = await pki.intermediateCa();
      const rsaLeaf = await localLeaf('localhost')
        .label('RSA-2048 leaf')
        .key(await rsaKey)
        .issuedBy(intermediate)
        .build();
      const dheOnly = { chain: [rsaLeaf, await pki.intermediateCa()], ciphers: 'DHE-RSA-AES128-GCM-SHA256' };
      return {
        // SECLEVEL=1: the 1024-bit group is served on purpose, on every Node (see SECURITY_LEVEL_1).
        server: { ...dheOnly, ciphers: `${dheOnly.ciphers}:@SECLEVEL=1`, dhparam: dhParametersPem('modp2') },
        client: { trust: [await pki.rootCa()], minDHSize: 2048 },
        fixed: { server: { ...dheOnly, dhparam: dhParametersPem('modp14') } },
      };
    },
  }),
];
