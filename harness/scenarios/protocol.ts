import { localLeaf, type Pki } from '../../certs/index.ts';
import { defineScenario } from '../scenario.ts';

/** The healthy server every protocol scenario is fixed to (or compared with). */
async function healthyChain(pki: Pki) {
  return [await pki.serverLeaf(), await pki.intermediateCa()];
}

/**
 * OpenSSL's default limit for the peer's certificate chain (`max_cert_list`) is 100 KiB, and Node has no option to
 * raise it. 10000 DNS names (~189 KB of DER) put the server's Certificate message well over it.
 */
export const OVERSIZE_SAN_COUNT = 10_000;

export const protocolScenarios = [
  defineScenario({
    id: 'legacy-tls-server',
    family: 'protocol',
    title: 'Server speaks only TLS 1.0 and TLS 1.1',
    cause:
      "Node's client offers TLS 1.2 and 1.3 by default (minVersion TLSv1.2); a server that stops at TLS 1.1 has no " +
      'version in common with it and answers the ClientHello with a protocol_version alert. (On OpenSSL 3 even ' +
      'the server needs `@SECLEVEL=0` in its cipher string to speak TLS 1.0/1.1 at all.)',
    fix:
      'Upgrade the server to TLS 1.2 or 1.3. Lowering the client (minVersion TLSv1 *and* ciphers ' +
      "'DEFAULT@SECLEVEL=0') only works around it, with protocols deprecated by RFC 8996.",
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: await healthyChain(pki), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: await healthyChain(pki) } },
      };
    },
  }),
  defineScenario({
    id: 'tls13-server-tls12-client',
    family: 'protocol',
    title: 'Server requires TLS 1.3, client is capped at TLS 1.2',
    cause:
      'The server has minVersion TLSv1.3; the client has maxVersion TLSv1.2 (or an old runtime that knows no ' +
      'TLS 1.3). The server finds no common version in the ClientHello and sends a protocol_version alert.',
    fix: "Let the client negotiate TLS 1.3: drop its maxVersion (Node's default is TLSv1.3).",
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: await healthyChain(pki), minVersion: 'TLSv1.3' },
        client: { trust: [await pki.rootCa()], maxVersion: 'TLSv1.2' },
        fixed: { client: { trust: [await pki.rootCa()] } },
      };
    },
  }),
  defineScenario({
    id: 'no-shared-cipher',
    family: 'protocol',
    title: 'Client and server share no TLS 1.2 cipher suite',
    cause:
      'Both ends restrict their TLS 1.2 cipher suites (the `ciphers` option) to disjoint lists — here the server ' +
      'allows only ECDHE-ECDSA-AES128-GCM-SHA256 and the client offers only ECDHE-ECDSA-CHACHA20-POLY1305. The ' +
      'server finds no suite it may pick and aborts with a handshake_failure alert. TLS 1.3 suites are a separate ' +
      'list in OpenSSL (the TLS_* names, which neither string mentions), so the same settings connect over TLS 1.3.',
    fix: 'Make the lists overlap: allow at least one suite on both sides (or keep the defaults on one of them).',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: await healthyChain(pki), ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
        client: { trust: [await pki.rootCa()], ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' },
        fixed: { client: { trust: [await pki.rootCa()], ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256' } },
      };
    },
  }),
  defineScenario({
    id: 'plain-http-on-tls-port',
    family: 'protocol',
    title: 'The port speaks plain HTTP, not TLS',
    cause:
      'The client sends a ClientHello and gets back "HTTP/1.1 400 Bad Request" in clear text (an http:// server, ' +
      'or TLS terminated elsewhere). OpenSSL reads the first bytes "HTTP" as a TLS record header whose version ' +
      'field makes no sense and stops with "wrong version number".',
    fix: 'Use http:// for a plain-HTTP port, or connect to the port where TLS is actually served.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [], behaviour: 'plain-http' },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: await healthyChain(pki) } },
      };
    },
  }),
  defineScenario({
    id: 'closed-before-handshake',
    family: 'protocol',
    title: 'The server resets the connection before the TLS handshake',
    cause:
      'The TCP connection is accepted, and when the ClientHello arrives the server resets it without a TLS byte ' +
      '(a load balancer without healthy backends, a server at its connection limit, an IP allow-list, a ' +
      'TLS-only port reached through the wrong proxy). The client reads the reset while it waits for the ServerHello.',
    fix:
      'Nothing to change in the TLS settings: find out why the server side hangs up (its logs, the load ' +
      'balancer, firewall rules) and connect to an endpoint that serves TLS.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [], behaviour: 'reset-on-client-hello' },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: await healthyChain(pki) } },
      };
    },
  }),
  defineScenario({
    id: 'handshake-never-completes',
    family: 'protocol',
    title: 'The server accepts the connection and never answers the ClientHello',
    cause:
      'The TCP connection is accepted but nothing comes back (a server that waits for the client to speak a ' +
      'different protocol, a stuck backend, a middlebox swallowing packets). tls.connect and https.request have ' +
      "no handshake timeout by default and wait forever; fetch's connector gives up after 10 s " +
      '(UND_ERR_CONNECT_TIMEOUT) unless a shorter signal aborts it first.',
    fix:
      'Bound every connection with a timeout (tls.connect `timeout` and the `timeout` event, https `timeout`, ' +
      '`AbortSignal.timeout()` for fetch), and connect to a port that serves TLS.',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: [], behaviour: 'silent' },
        // The probes stand in for the application's own timeout; 300 ms is ample on loopback.
        client: { trust: [await pki.rootCa()], timeoutMs: 300 },
        fixed: { server: { chain: await healthyChain(pki) } },
      };
    },
  }),
  defineScenario({
    id: 'alpn-mismatch',
    family: 'protocol',
    title: 'ALPN: the server accepts only h2, the client offers only http/1.1',
    cause:
      'The server is an HTTP/2-only server (http2.createSecureServer without allowHTTP1, as gRPC servers are): its ' +
      'only ALPN protocol is h2. The client offers only http/1.1. RFC 7301 has the server refuse with a ' +
      'no_application_protocol alert, and Node does. A client that offers no ALPN at all is let through. fetch ' +
      'offers exactly http/1.1 up to undici 7 (Node 20–24) and fails the same way; undici 8 (Node 26) offers h2 ' +
      'as well, so its fetch speaks HTTP/2 and succeeds.',
    fix:
      'Make the lists overlap: the server also accepts http/1.1 (allowHTTP1: true), or the client speaks h2 ' +
      '(node:http2, or undici with allowH2).',
    expect: 'reject',
    async setup(pki) {
      return {
        server: { chain: await healthyChain(pki), http2: { allowHTTP1: false } },
        client: { trust: [await pki.rootCa()], alpn: ['http/1.1'] },
        fixed: { server: { chain: await healthyChain(pki), http2: { allowHTTP1: true } } },
      };
    },
  }),
  defineScenario({
    id: 'oversize-certificate',
    family: 'protocol',
    title: 'Server certificate too large for the client (10000 subjectAltName entries)',
    cause:
      'The server certificate carries 10000 DNS names (~189 KB), so its Certificate handshake message exceeds ' +
      "OpenSSL's limit for a peer's certificate chain (max_cert_list, 100 KiB by default). The client stops " +
      'reading before it looks at the chain, with "excessive message size"; Node has no option to raise the limit.',
    fix:
      'Serve smaller certificates: split the names over several certificates (selected by SNI), or use a ' +
      'wildcard, and send only leaf and intermediates (never the root).',
    expect: 'reject',
    async setup(pki) {
      // Built once per process, like every scenario's material (setup is memoized).
      const oversize = await localLeaf('localhost')
        .label(`leaf with ${OVERSIZE_SAN_COUNT} SAN entries`)
        .dns(...Array.from({ length: OVERSIZE_SAN_COUNT }, (_, i) => `host-${i}.example`))
        .issuedBy(await pki.intermediateCa())
        .build();
      return {
        server: { chain: [oversize, await pki.intermediateCa()] },
        client: { trust: [await pki.rootCa()] },
        fixed: { server: { chain: await healthyChain(pki) } },
      };
    },
  }),
];
