import { certificate, dhParametersPem, localLeaf, newKeyPair } from '../../certs/index.ts';
import { ALERTS, OK, alertFromClient, alertInHandshake, fails, openssl, perVersion, sslError, tlsClientError, when } from '../expect.ts';
import {
  SECURITY_LEVEL_2,
  TOOLS_HANDSHAKE_FAILURE,
  certificateProblem,
  curl,
  pythonRaises,
  pythonRejects,
  sClientFails,
  sClientRejects,
} from '../expect-tools.ts';
import { defineScenario, fixed, leafServed, pems, underRoot } from '../scenario.ts';

/** Node has no code for these OpenSSL verification errors: UNSPECIFIED, with OpenSSL's reason as the message. */
const DIGEST_TOO_WEAK = fails('UNSPECIFIED', 'CA signature digest algorithm too weak');
const KEY_TOO_WEAK = fails('UNSPECIFIED', 'EE certificate key too weak');

/** A client that refuses what OpenSSL rates below 112 bits of security (RSA < 2048, DH < 2048, SHA-1). */
const STRICT_CLIENT = { ciphers: 'DEFAULT@SECLEVEL=2' };

/** A client that accepts 80 bits (RSA-1024, DH-1024) on every Node, whatever the build's default level. */
const LEVEL_1_CLIENT = { ciphers: 'DEFAULT@SECLEVEL=1' };

/** dhe-1024 at security level 1: OpenSSL accepts the group, and Node's own minDHSize check refuses it after the handshake. */
const NODE_REFUSES_THE_GROUP = fails('ERR_TLS_DH_PARAM_SIZE', 'DH parameter size 1024 is less than 2048');
/** At level 2 OpenSSL's security check fires first, with OpenSSL's error and no alert number in it. */
const OPENSSL_REFUSES_THE_GROUP = sslError('ERR_SSL_DH_KEY_TOO_SMALL', 'dh key too small');

/** OpenSSL security level 0: lets a server load (and a client accept) what level 1 refuses. */
const SECURITY_LEVEL_0 = 'DEFAULT@SECLEVEL=0';

/**
 * OpenSSL security level 1 (80 bits), set on purpose by servers that serve 80-bit material (RSA-1024, DH-1024). Node's
 * default level differs by build — 1 on Node 20 and 22, 2 on Node 24.5+ (the securityLevel2 fact, harness/facts.ts) — and at level 2
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
      'server here runs at SECLEVEL=0: at the default level a Node 20 server refuses to load such a certificate at all — ' +
      '"ca md too weak", the error most people meet first — while Node 22+ (OpenSSL 3.5) loads it and only the clients ' +
      'refuse it.)',
    fix: 'Reissue the certificate with a SHA-256 signature (any CA has done so by default since 2016).',
    expect: 'reject',
    setup: (pki) =>
      leafServed(pki, localLeaf('localhost').label('SHA-1 signed leaf').signatureHash('SHA-1'), { server: { ciphers: SECURITY_LEVEL_0 } }),
    node: [{ expect: DIGEST_TOO_WEAK }, fixed('the certificate reissued with SHA-256')],
    tools: certificateProblem(68, 'CA signature digest algorithm too weak', 'bad certificate'),
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
    setup: async (pki) =>
      leafServed(pki, localLeaf('localhost'), {
        intermediate: await underRoot(pki, certificate('tls-harness SHA-1 Intermediate CA').ca({ pathLength: 0 }).signatureHash('SHA-1')),
        server: { ciphers: SECURITY_LEVEL_0 },
      }),
    node: [{ expect: DIGEST_TOO_WEAK }, fixed('a SHA-256 signed intermediate')],
    tools: certificateProblem(68, 'CA signature digest algorithm too weak', 'bad certificate'),
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
    setup: (pki) =>
      leafServed(pki, localLeaf('localhost').label('RSA-512 leaf').key({ type: 'rsa', bits: 512 }), {
        server: { ciphers: SECURITY_LEVEL_0 },
      }),
    node: [
      {
        expect: perVersion(alertInHandshake(ALERTS.handshakeFailure), KEY_TOO_WEAK),
        server: perVersion(
          tlsClientError('ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM', openssl('no suitable signature algorithm')),
          undefined,
        ),
      },
      fixed('an EC P-256 key'),
    ],
    // TLS 1.3: the server has no RSA-PSS signature a 512-bit key can make and aborts. TLS 1.2: the client refuses the key.
    tools: {
      curl: perVersion(TOOLS_HANDSHAKE_FAILURE.curl, curl(60, 'SSL certificate problem: EE certificate key too weak')),
      sClient: perVersion(
        TOOLS_HANDSHAKE_FAILURE.sClient,
        sClientRejects(66, 'EE certificate key too weak', 'bad certificate', { verify: '0 (ok)' }),
      ),
      python: perVersion(TOOLS_HANDSHAKE_FAILURE.python, pythonRejects('EE certificate key too weak')),
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
    // SECLEVEL=1: the 1024-bit key is served on purpose, on every Node (see SECURITY_LEVEL_1).
    setup: (pki) =>
      leafServed(pki, localLeaf('localhost').label('RSA-1024 leaf').key({ type: 'rsa', bits: 1024 }), {
        server: { ciphers: SECURITY_LEVEL_1 },
      }),
    node: [
      // Node's default client runs at its build's default security level (FACTS.securityLevel2).
      { expect: when('securityLevel2', KEY_TOO_WEAK, OK) },
      { title: "a strict client (`ciphers: 'DEFAULT@SECLEVEL=2'`) refuses it on every Node", client: STRICT_CLIENT, expect: KEY_TOO_WEAK },
      { title: "a client at `ciphers: 'DEFAULT@SECLEVEL=1'` accepts it on every Node", client: LEVEL_1_CLIENT, expect: OK },
      fixed('an EC P-256 key, accepted by the strict client', { client: STRICT_CLIENT }),
    ],
    // The tools refuse it on every Node line: the system OpenSSL defaults to level 2.
    tools: certificateProblem(66, 'EE certificate key too weak', 'bad certificate'),
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
      '(ERR_SSL_DH_KEY_TOO_SMALL "dh key too small"), whatever minDHSize says: even Node\'s default of 1024 does not let ' +
      'it through. The server warns at start-up (SecurityWarning "DH parameter is less than 2048 bits").',
    fix:
      'On the server: use ECDHE suites, or DH parameters of at least 2048 bits (`dhparam` with RFC 3526 group 14 ' +
      'or ffdhe2048, or `dhparam: "auto"`).',
    expect: 'reject',
    async setup(pki) {
      // DHE suites authenticate with RSA; the key is about the DH group, so it is a sound 2048 bits. It is generated on
      // the thread pool (generateKeyPair, 100–200 ms): the generation starts before anything is awaited.
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
        client: { ca: pems(await pki.rootCa()), minDHSize: 2048 },
        fixed: { server: { ...dheOnly, dhparam: dhParametersPem('modp14') } },
      };
    },
    node: [
      {
        // TLS 1.3 has no DHE-RSA suites — a `ciphers` string of TLS 1.2 suites leaves the TLS 1.3 suites alone — so it
        // negotiates ECDHE (X25519) and neither check applies.
        expect: perVersion(OK, when('securityLevel2', OPENSSL_REFUSES_THE_GROUP, NODE_REFUSES_THE_GROUP)),
        server: perVersion(undefined, when('securityLevel2', alertFromClient(ALERTS.handshakeFailure), undefined)),
      },
      {
        title: "Node's default `minDHSize: 1024`",
        client: { minDHSize: 1024 },
        expect: perVersion(OK, when('securityLevel2', OPENSSL_REFUSES_THE_GROUP, OK)),
      },
      {
        title: "`minDHSize: 2048` at `ciphers: 'DEFAULT@SECLEVEL=1'`: Node's own check refuses it on every Node",
        client: LEVEL_1_CLIENT,
        expect: perVersion(OK, NODE_REFUSES_THE_GROUP),
      },
      fixed('2048-bit DH parameters (RFC 3526 group 14)'),
    ],
    // The client's minDHSize is Node's; each tool gets OpenSSL's counterpart, security level 2 (SECURITY_LEVEL_2).
    tools: {
      curl: perVersion(OK, curl(35, 'OpenSSL/<version>: error:0A00018A:SSL routines::dh key too small')),
      sClient: perVersion(
        OK,
        sClientFails({
          alerts: ['write:fatal:handshake failure'],
          error: 'error:0A00018A:SSL routines:tls_process_ske_dhe:dh key too small',
        }),
      ),
      python: perVersion(OK, pythonRaises('SSLError', '[SSL: DH_KEY_TOO_SMALL] dh key too small (_ssl.c)')),
      counterparts: { curl: SECURITY_LEVEL_2, sClient: SECURITY_LEVEL_2, python: SECURITY_LEVEL_2 },
    },
  }),
];
