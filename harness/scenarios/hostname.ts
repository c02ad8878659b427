import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { certificate, certificateWithoutCommonName, dnsLeaf } from '../../certs/index.ts';
import { OK, altnameInvalid, fails, perServer, when } from '../expect.ts';
import { ALL_OK, curl, nameMismatch, pythonRejects, sClientRejects, urlError } from '../expect-tools.ts';
import { defineScenario, fixed, leafServed } from '../scenario.ts';

/** A stricter checkServerIdentity than Node's: a certificate without a subjectAltName is refused, whatever its CN. */
export function requireSubjectAltName(host: string, cert: PeerCertificate): Error | undefined {
  return cert.subjectaltname
    ? checkServerIdentity(host, cert)
    : Object.assign(new Error(`${host}: the certificate has no subjectAltName`), { code: 'ERR_CERT_NO_SUBJECT_ALT_NAME' });
}

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
    // Reissued with the name the client uses; connecting as wrong.host.example works too (a case below).
    setup: async (pki) => leafServed(pki, await pki.wrongHostLeaf()),
    node: [
      { expect: altnameInvalid("Host: localhost. is not in the cert's altnames: DNS:wrong.host.example") },
      {
        title: 'fix: connect by the name the certificate carries (servername wrong.host.example)',
        client: { servername: 'wrong.host.example' },
        expect: OK,
      },
      fixed('a certificate reissued with the right SAN (DNS:localhost)'),
    ],
    tools: {
      ...nameMismatch('localhost'),
      urllib: urlError(pythonRejects("Hostname mismatch, certificate is not valid for 'localhost'.")),
    },
  }),
  defineScenario({
    id: 'wildcard-too-deep',
    family: 'hostname',
    title: 'Wildcard certificate used for a name two levels below it',
    cause:
      'A wildcard stands for exactly one DNS label (RFC 6125 §6.4.3): *.example.test covers a.example.test but not ' +
      'a.b.example.test. The client asks for a.b.example.test, so no SAN matches. Browsers agree.',
    fix:
      'Add the deeper name to the certificate (a.b.example.test, or a second wildcard *.b.example.test), or move ' +
      'the service one level up.',
    expect: 'reject',
    setup: (pki) =>
      leafServed(pki, dnsLeaf('*.example.test'), {
        client: { servername: 'a.b.example.test' },
        fixedLeaf: dnsLeaf('*.example.test', '*.b.example.test').label('*.example.test + *.b.example.test'),
      }),
    node: [
      { expect: altnameInvalid("Host: a.b.example.test. is not in the cert's altnames: DNS:*.example.test") },
      fixed('a certificate that also lists *.b.example.test'),
    ],
    tools: nameMismatch('a.b.example.test'),
  }),
  defineScenario({
    id: 'wildcard-apex',
    family: 'hostname',
    title: 'Wildcard certificate used for the bare domain it sits under',
    cause:
      'A wildcard must replace exactly one label: *.example.test covers www.example.test but not example.test ' +
      'itself. A certificate ordered "for the domain" as only *.example.test fails for the apex.',
    fix: 'List the bare domain next to the wildcard (SAN DNS:example.test, DNS:*.example.test), as CAs usually do.',
    expect: 'reject',
    setup: (pki) =>
      leafServed(pki, dnsLeaf('*.example.test'), {
        client: { servername: 'example.test' },
        fixedLeaf: dnsLeaf('example.test', '*.example.test'),
      }),
    node: [
      { expect: altnameInvalid("Host: example.test. is not in the cert's altnames: DNS:*.example.test") },
      fixed('a certificate for example.test and *.example.test'),
    ],
    tools: nameMismatch('example.test'),
  }),
  defineScenario({
    id: 'wildcard-one-level',
    family: 'hostname',
    title: 'Wildcard certificate used for a name one level below it (accepted)',
    cause:
      'Nothing is wrong: *.example.test covers a.example.test, since the wildcard replaces exactly one whole label ' +
      '(RFC 6125 §6.4.3). This is the boundary that wildcard-too-deep and wildcard-apex fall on either side of.',
    fix: 'Nothing to fix.',
    expect: 'accept',
    setup: (pki) => leafServed(pki, dnsLeaf('*.example.test'), { client: { servername: 'a.example.test' }, fixedLeaf: null }),
    node: [{ expect: OK }],
    tools: ALL_OK,
  }),
  defineScenario({
    id: 'ip-literal-vs-dns-san',
    family: 'hostname',
    title: 'Connecting by IP address to a certificate that only names localhost',
    cause:
      'The client connects to https://127.0.0.1 (no servername), so it checks the IP address against the ' +
      "certificate's IP Address SAN entries — and the certificate has only DNS:localhost. A DNS name never matches " +
      'an IP literal, even one that resolves to it.',
    fix:
      'Connect by the name on the certificate (https://localhost, or `servername: "localhost"` with host ' +
      '127.0.0.1), or reissue the certificate with an IP SAN (IP:127.0.0.1).',
    expect: 'reject',
    setup: (pki) => leafServed(pki, dnsLeaf('localhost').label('localhost only'), { client: { servername: undefined } }),
    node: [
      { expect: altnameInvalid("IP: 127.0.0.1 is not in the cert's list: ") },
      { title: 'fix: connect by the name on the certificate (servername localhost)', client: { servername: 'localhost' }, expect: OK },
      fixed('a certificate with an IP SAN (IP:127.0.0.1)'),
    ],
    tools: nameMismatch('127.0.0.1'),
  }),
  defineScenario({
    id: 'ip-as-dns-san',
    family: 'hostname',
    title: 'IP address written into the certificate as a DNS name',
    cause:
      'The certificate was made with `subjectAltName = DNS:127.0.0.1` instead of `IP:127.0.0.1`. A client that ' +
      'connects by IP compares the address with IP Address entries only, and this certificate has none.',
    fix: 'Reissue the certificate with an IP SAN: `subjectAltName = IP:127.0.0.1` (or `IP.1 = 127.0.0.1` in a config).',
    expect: 'reject',
    setup: (pki) =>
      leafServed(pki, dnsLeaf('127.0.0.1'), {
        client: { servername: undefined },
        fixedLeaf: certificate('127.0.0.1').serverAuth().ip('127.0.0.1'),
      }),
    node: [{ expect: altnameInvalid("IP: 127.0.0.1 is not in the cert's list: ") }, fixed('the address as an IP SAN (IP:127.0.0.1)')],
    tools: nameMismatch('127.0.0.1'),
  }),
  defineScenario({
    id: 'ipv6-san-only',
    family: 'hostname',
    title: 'Certificate for the IPv6 loopback (::1) reached over IPv4 (127.0.0.1)',
    cause:
      'The certificate lists only IP:::1. The client connects to 127.0.0.1 — the same machine, but a different ' +
      'address, and IP SANs are compared address by address ("localhost" may resolve to either, depending on ' +
      'the resolver).',
    fix: 'List every address clients use (IP:127.0.0.1 and IP:::1), or connect by a DNS name on the certificate.',
    expect: 'reject',
    setup: (pki) => leafServed(pki, certificate('::1').serverAuth().ip('::1'), { client: { servername: undefined } }),
    node: [{ expect: altnameInvalid("IP: 127.0.0.1 is not in the cert's list: ::1") }, fixed('a certificate for 127.0.0.1 and ::1')],
    tools: nameMismatch('127.0.0.1'),
  }),
  defineScenario({
    id: 'no-cn-no-san',
    family: 'hostname',
    title: 'Certificate with neither a common name nor a subjectAltName',
    cause:
      'The certificate names no host at all: its subject has no CN and it has no subjectAltName extension ' +
      '(e.g. made from a CSR without `-subj`/`-addext`). There is nothing to match the host name against.',
    fix: 'Reissue the certificate with a subjectAltName for every name clients use (DNS:localhost, IP:127.0.0.1).',
    expect: 'reject',
    setup: (pki) => leafServed(pki, certificateWithoutCommonName('no CN, no SAN').serverAuth()),
    node: [{ expect: altnameInvalid('Cert does not contain a DNS name') }, fixed('a certificate with a SAN')],
    tools: { ...nameMismatch('localhost'), curl: curl(60, 'SSL: unable to obtain common name from peer certificate') },
  }),
  defineScenario({
    id: 'uri-only-san',
    family: 'hostname',
    title: 'Certificate whose only subjectAltName is a URI',
    cause:
      'The certificate identifies the server by a URI SAN (URI:https://localhost/, as service-mesh or SPIFFE ' +
      'tooling does) and has no DNS SAN and no CN. Node matches host names against DNS SANs (and a CN as fallback) ' +
      'only; URI SANs have not been considered since the CVE-2021-44531 fix (Node 12.22.9/14.18.3/16.13.2/17.3.1).',
    fix: 'Add a DNS SAN for the host name (DNS:localhost) next to the URI, or verify the URI yourself in checkServerIdentity.',
    expect: 'reject',
    setup: (pki) =>
      leafServed(pki, certificateWithoutCommonName('URI SAN only').serverAuth().uri('https://localhost/'), {
        fixedLeaf: certificateWithoutCommonName('URI and DNS SAN').serverAuth().uri('https://localhost/').dns('localhost'),
      }),
    node: [
      // The same message as for a certificate with no names at all: Node ignores the URI SAN.
      { expect: altnameInvalid('Cert does not contain a DNS name') },
      fixed('a certificate with URI:https://localhost/ and DNS:localhost'),
    ],
    tools: { ...nameMismatch('localhost'), curl: curl(60, 'SSL: unable to obtain common name from peer certificate') },
  }),
  defineScenario({
    id: 'cn-only',
    family: 'hostname',
    title: 'Certificate that names the host only in its common name (no subjectAltName)',
    cause:
      'The certificate has CN=localhost and no subjectAltName. Matching the CN is deprecated (RFC 6125) and no ' +
      'longer allowed (RFC 9525), public CAs must put every name in the SAN (CA/Browser Forum), and browsers reject ' +
      'such certificates (Chrome since version 58: NET::ERR_CERT_COMMON_NAME_INVALID). Like Node, curl, ' +
      "openssl s_client and Python fall back to the CN too (Python's hostname_checks_common_name defaults to True). " +
      'Node still falls back to the CN when a certificate has no DNS SAN, so Node accepts it: a strict client ' +
      'must not.',
    fix:
      'Reissue the certificate with a subjectAltName (DNS:localhost, IP:127.0.0.1); keep the CN if you like. A client ' +
      'that wants the strict rule refuses certificates without a SAN in its own checkServerIdentity.',
    expect: 'reject',
    setup: (pki) => leafServed(pki, certificate('localhost').label('CN only').serverAuth()),
    node: [
      { title: 'Node accepts the CN-only certificate', expect: OK },
      {
        title: 'a strict client: checkServerIdentity that requires a SAN',
        client: { checkServerIdentity: requireSubjectAltName },
        expect: fails('ERR_CERT_NO_SUBJECT_ALT_NAME', 'localhost: the certificate has no subjectAltName'),
      },
      fixed('a certificate with a SAN (accepted by the strict client too)'),
      fixed('a certificate with a SAN (accepted by the strict client too)', { client: { checkServerIdentity: requireSubjectAltName } }),
    ],
    tools: ALL_OK,
  }),
  defineScenario({
    id: 'no-sni-default-cert',
    family: 'hostname',
    title: "Client sends no SNI and gets the server's default certificate",
    cause:
      'The server hosts several names and picks the certificate by SNI; a client that sends no SNI (it connects ' +
      'by IP literal, or an old client) gets the default certificate, which is for another name ' +
      '(default.example.test). The certificate for localhost is there, but only for clients that ask for it.',
    fix:
      'Send SNI: connect by name (`servername: "localhost"`). On the server, make the default certificate one that ' +
      'clients without SNI can verify.',
    expect: 'reject',
    async setup(pki) {
      return leafServed(pki, dnsLeaf('default.example.test'), {
        server: { sni: { localhost: [await pki.serverLeaf(), await pki.intermediateCa()] } },
        client: { servername: undefined },
        fixedLeaf: null,
        fixedClient: { servername: 'localhost' },
      });
    },
    node: [{ expect: altnameInvalid("IP: 127.0.0.1 is not in the cert's list: ") }, fixed('send SNI (servername localhost)')],
    tools: nameMismatch('127.0.0.1'),
  }),
  defineScenario({
    id: 'trailing-dot-host',
    family: 'hostname',
    title: 'Host name written as a fully qualified name with a trailing dot (localhost.)',
    cause:
      '"localhost." is the absolute form of "localhost": the same DNS name. Node drops the trailing dot before ' +
      'matching, so the certificate for localhost matches.',
    fix: 'Nothing to fix.',
    expect: 'accept',
    setup: async (pki) => leafServed(pki, await pki.serverLeaf(), { client: { servername: 'localhost.' }, fixedLeaf: null }),
    node: [{ expect: OK }],
    // curl drops the trailing dot (for SNI and for the check) and connects, as Node does; s_client and Python hand
    tools:
      // the name to OpenSSL as given, and 'localhost.' does not match DNS:localhost.
      { ...nameMismatch('localhost.'), curl: OK },
  }),
  defineScenario({
    id: 'trailing-dot-sni',
    family: 'hostname',
    title: 'Trailing-dot host name against a server that picks its certificate by SNI',
    cause:
      'Node matches "localhost." against the certificate without the dot, but sends it as SNI with the dot, ' +
      'although RFC 6066 says SNI carries the name without one. A server that picks its certificate by exact SNI ' +
      "name (as Node's own `server.addContext('localhost', …)` does) finds no certificate for \"localhost.\" and " +
      'sends its default certificate, which is for another name.',
    fix:
      'Strip the trailing dot before connecting (`servername: host.replace(/\\.$/, "")`). On the server, drop a ' +
      'trailing dot from the SNI name before looking up the certificate.',
    expect: 'reject',
    async setup(pki) {
      return leafServed(pki, dnsLeaf('default.example.test'), {
        server: { sni: { localhost: [await pki.serverLeaf(), await pki.intermediateCa()] } },
        client: { servername: 'localhost.' },
        fixedLeaf: null,
        fixedClient: { servername: 'localhost' },
      });
    },
    node: [
      {
        expect: perServer(
          "Node's SNICallback and s_server (-servername, strcasecmp) compare the name as sent, dot included, and fall " +
            'back to the default certificate. nginx drops a trailing dot from the SNI name first (ngx_http_validate_host), ' +
            'finds the server block for localhost and sends its certificate — what RFC 6066 wants.',
          { node: altnameInvalid("Host: localhost. is not in the cert's altnames: DNS:default.example.test"), nginx: OK },
        ),
      },
      fixed("servername 'localhost', without the dot"),
    ],
    // Node sends SNI 'localhost.' and gets the default certificate; curl sends 'localhost' and gets the right one.
    tools: { ...nameMismatch('localhost.'), curl: OK },
  }),
  defineScenario({
    id: 'uppercase-host',
    family: 'hostname',
    title: 'Host name in upper case (LOCALHOST)',
    cause:
      'DNS names are case-insensitive (RFC 4343), and so is the certificate match (RFC 6125 §6.4.1): LOCALHOST ' +
      "matches DNS:localhost; Node lowercases A–Z on both sides before comparing, and a browser's URL parser " +
      'lowercases the host before anything else.',
    fix: 'Nothing to fix.',
    expect: 'accept',
    setup: async (pki) => leafServed(pki, await pki.serverLeaf(), { client: { servername: 'LOCALHOST' }, fixedLeaf: null }),
    node: [{ expect: OK }],
    tools: ALL_OK,
  }),
  defineScenario({
    id: 'idn-unicode-host',
    family: 'hostname',
    title: 'Internationalized host name given in Unicode, certificate in punycode (Node 20 rejects it)',
    cause:
      'Certificates carry internationalized names in their ASCII (punycode, A-label) form: xn--bcher-kva.test for ' +
      'bücher.test. A client must convert the name it was given to its A-label before comparing (RFC 6125 §6.4.2), ' +
      'as browsers do. tls.connect and https.request send the Unicode `servername` as SNI as it is, in UTF-8; ' +
      'checkServerIdentity converts it since the CVE-2026-48618 fix (Node 22.23.0, 24.17.0, 26.3.1) and then ' +
      'accepts the certificate, but Node 20 compares the Unicode name with the A-label, which never matches ' +
      '(ERR_TLS_CERT_ALTNAME_INVALID). (The WHATWG URL parser — fetch, `new URL` — converts the name for you.)',
    fix:
      'Convert the name to its A-label before connecting: `url.domainToASCII("bücher.test")` → "xn--bcher-kva.test" ' +
      '(needed on Node 20, and for a server that picks its certificate by SNI name).',
    expect: 'accept',
    setup: (pki) =>
      leafServed(pki, dnsLeaf('xn--bcher-kva.test'), {
        client: { servername: 'bücher.test' },
        fixedLeaf: null,
        fixedClient: { servername: 'xn--bcher-kva.test' },
      }),
    node: [
      { expect: when('asciiHostCheck', OK, altnameInvalid("Host: bücher.test. is not in the cert's altnames: DNS:xn--bcher-kva.test")) },
      fixed("servername domainToASCII('bücher.test')"),
    ],
    // curl (libidn2) and Python (the idna codec) convert the name to its A-label and connect, as fetch does; s_client
    tools:
      // sends and checks the UTF-8 bytes, as tls.connect and https.request do.
      { curl: OK, sClient: sClientRejects(62, 'hostname mismatch', 'bad certificate'), python: OK },
  }),
];
