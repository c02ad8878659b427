import type { PeerCertificate } from 'node:tls';
import * as tls from 'node:tls';
import { domainToASCII } from 'node:url';
import { expect } from 'chai';
import { IDENTITY_CHECK_USES_ASCII_HOST, TLS_VERSIONS, only } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { SERVER_SOFTWARE } from './support/backend.ts';
import { expectFailure, forProbe, itFailsForEveryProbe, itSucceedsForEveryProbe, type ExpectedFailure } from './support/expectations.ts';
import { PROBE_NAMES, type Endpoint } from '../harness/index.ts';

/** Node's hostname-mismatch error: ERR_TLS_CERT_ALTNAME_INVALID, its message built from `reason`. */
function altnameInvalid(reason: string): ExpectedFailure {
  return {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    message: `Hostname/IP does not match certificate's altnames: ${reason}`,
    phase: 'handshake',
  };
}

/**
 * The mismatch error carries `reason`, the `host` it checked and the peer `cert`: what a developer logs to see
 * which name was compared with which certificate. fetch wraps the TLS error, so the fields are on its cause.
 */
function itCarriesHostAndCert(
  endpoint: () => Endpoint,
  version: (typeof TLS_VERSIONS)[number],
  reason: string,
  host: string,
  cert: { CN?: string; subjectaltname: string | undefined },
): void {
  for (const probe of PROBE_NAMES) {
    const what = `host '${host}', cert ${cert.CN === undefined ? '' : `CN=${cert.CN} `}subjectaltname ${cert.subjectaltname ?? 'none'}`;
    it(`${probe}: the error carries reason, ${what}`, async () => {
      const outcome = await endpoint().probe(probe, only(version));
      expectFailure(outcome, forProbe(probe, altnameInvalid(reason)));
      const error = (probe === 'fetch' ? outcome.error?.cause : outcome.error) as Record<string, unknown>;
      expect(error.reason).to.equal(reason);
      expect(error.host).to.equal(host);
      const peer = error.cert as PeerCertificate;
      expect(peer.subjectaltname).to.equal(cert.subjectaltname);
      if (cert.CN !== undefined) expect(peer.subject.CN).to.equal(cert.CN);
    });
  }
}

describe('hostname', () => {
  describe('wrong-host: the certificate names another host', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "Hostname/IP does not match certificate's altnames: Host: localhost.
    // is not in the cert's altnames: DNS:wrong.host.example".
    // Why: the chain is trusted, but Node's checkServerIdentity finds the name the client asked for (the
    // `servername`, else the `host`) in none of the certificate's subjectAltName entries.
    // Fix: connect by a name the certificate carries, or reissue the certificate with the right SAN.
    const wrongHost = useEndpoint('wrong-host');
    const reissued = useEndpoint('wrong-host', { fixed: true });
    const reason = "Host: localhost. is not in the cert's altnames: DNS:wrong.host.example";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(wrongHost, altnameInvalid(reason), { version });
        itCarriesHostAndCert(wrongHost, version, reason, 'localhost', { subjectaltname: 'DNS:wrong.host.example' });

        describe('fix: connect by the name the certificate carries (servername wrong.host.example)', () =>
          itSucceedsForEveryProbe(wrongHost, { version, with: { servername: 'wrong.host.example' } }));
        describe('fix: a certificate reissued with the right SAN (DNS:localhost)', () =>
          itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('wildcard-too-deep: *.example.test used for a.b.example.test', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… Host: a.b.example.test. is not in the cert's altnames:
    // DNS:*.example.test".
    // Why: a wildcard stands for exactly one label (RFC 6125 §6.4.3); a.b.example.test is two below example.test.
    // Browsers agree.
    // Fix: add the deeper name (here a second wildcard, *.b.example.test) or move the service up one level.
    const tooDeep = useEndpoint('wildcard-too-deep');
    const reissued = useEndpoint('wildcard-too-deep', { fixed: true });
    const reason = "Host: a.b.example.test. is not in the cert's altnames: DNS:*.example.test";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(tooDeep, altnameInvalid(reason), { version });
        describe('fix: a certificate that also lists *.b.example.test', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('wildcard-apex: *.example.test used for example.test', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… Host: example.test. is not in the cert's altnames:
    // DNS:*.example.test".
    // Why: the wildcard must replace one label, and the bare domain has none left to replace.
    // Fix: list the bare domain next to the wildcard (DNS:example.test, DNS:*.example.test).
    const apex = useEndpoint('wildcard-apex');
    const reissued = useEndpoint('wildcard-apex', { fixed: true });
    const reason = "Host: example.test. is not in the cert's altnames: DNS:*.example.test";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(apex, altnameInvalid(reason), { version });
        describe('fix: a certificate for example.test and *.example.test', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('wildcard-one-level: *.example.test used for a.example.test (accepted)', () => {
    // What you see: nothing — every client completes the request.
    // Why: this is what a wildcard is for: it replaces exactly one whole label (RFC 6125 §6.4.3). It is the
    // boundary between wildcard-apex (zero labels) and wildcard-too-deep (two). A browser accepts it too.
    const oneLevel = useEndpoint('wildcard-one-level');
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => itSucceedsForEveryProbe(oneLevel, { version }));
    }
  });

  describe('ip-literal-vs-dns-san: connecting by 127.0.0.1 to a certificate for localhost only', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… IP: 127.0.0.1 is not in the cert's list: " — the list is
    // empty: the certificate has no IP Address SAN at all.
    // Why: with no servername, the client checks the IP literal it connected to, and an IP is compared with IP
    // Address SANs only; DNS:localhost never matches it (nor does any DNS name that resolves to it).
    // Fix: connect by name (`servername: 'localhost'`), or reissue the certificate with IP:127.0.0.1.
    const byIp = useEndpoint('ip-literal-vs-dns-san');
    const reissued = useEndpoint('ip-literal-vs-dns-san', { fixed: true });
    const reason = "IP: 127.0.0.1 is not in the cert's list: ";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(byIp, altnameInvalid(reason), { version });
        itCarriesHostAndCert(byIp, version, reason, '127.0.0.1', { CN: 'localhost', subjectaltname: 'DNS:localhost' });
        describe('fix: connect by the name on the certificate (servername localhost)', () =>
          itSucceedsForEveryProbe(byIp, { version, with: { servername: 'localhost' } }));
        describe('fix: a certificate with an IP SAN (IP:127.0.0.1)', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('ip-as-dns-san: the IP address was put in the certificate as a DNS name', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… IP: 127.0.0.1 is not in the cert's list: " although the
    // certificate visibly says 127.0.0.1 (as DNS:127.0.0.1).
    // Why: `subjectAltName = DNS:127.0.0.1` makes a DNS name that happens to look like an address; a client that
    // connects by IP looks at IP Address SANs only.
    // Fix: reissue with `subjectAltName = IP:127.0.0.1`.
    const ipAsDns = useEndpoint('ip-as-dns-san');
    const reissued = useEndpoint('ip-as-dns-san', { fixed: true });
    const reason = "IP: 127.0.0.1 is not in the cert's list: ";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(ipAsDns, altnameInvalid(reason), { version });
        itCarriesHostAndCert(ipAsDns, version, reason, '127.0.0.1', { subjectaltname: 'DNS:127.0.0.1' });
        describe('fix: the address as an IP SAN (IP:127.0.0.1)', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('ipv6-san-only: a certificate for ::1 reached as 127.0.0.1', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… IP: 127.0.0.1 is not in the cert's list: ::1".
    // Why: both are loopback, but IP SANs are compared address by address, and IPv4 and IPv6 loopback are
    // different addresses ("localhost" may resolve to either, depending on the resolver).
    // Fix: list every address clients use (IP:127.0.0.1 and IP:::1), or connect by a DNS name on the certificate.
    const ipv6Only = useEndpoint('ipv6-san-only');
    const reissued = useEndpoint('ipv6-san-only', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(ipv6Only, altnameInvalid("IP: 127.0.0.1 is not in the cert's list: ::1"), { version });
        describe('fix: a certificate for 127.0.0.1 and ::1', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('no-cn-no-san: a certificate that names no host at all', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… Cert does not contain a DNS name".
    // Why: the subject has no CN and there is no subjectAltName extension, so there is nothing to compare the
    // host name with.
    // Fix: reissue the certificate with a subjectAltName for every name clients use.
    const anonymous = useEndpoint('no-cn-no-san');
    const reissued = useEndpoint('no-cn-no-san', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(anonymous, altnameInvalid('Cert does not contain a DNS name'), { version });
        describe('fix: a certificate with a SAN', () => itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('uri-only-san: the only subjectAltName is a URI (URI:https://localhost/)', () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… Cert does not contain a DNS name" — the same message as for a
    // certificate with no names at all: Node ignores the URI SAN.
    // Why: host names are matched against DNS SANs (and a CN when there is no DNS SAN); URI SANs have not been
    // used for host names since the CVE-2021-44531 fix.
    // Fix: add a DNS SAN next to the URI (or check the URI yourself in checkServerIdentity).
    const uriOnly = useEndpoint('uri-only-san');
    const reissued = useEndpoint('uri-only-san', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(uriOnly, altnameInvalid('Cert does not contain a DNS name'), { version });
        describe('fix: a certificate with URI:https://localhost/ and DNS:localhost', () =>
          itSucceedsForEveryProbe(reissued, { version }));
      });
    }
  });

  describe('cn-only: the host is named only in the common name (Node accepts it; a strict client must not)', () => {
    // What you see: nothing — Node completes the request. A browser refuses the same certificate
    // (NET::ERR_CERT_COMMON_NAME_INVALID in Chrome), as RFC 9525 requires.
    // Why: when a certificate has no DNS SAN, Node's checkServerIdentity falls back to the subject CN (the
    // deprecated RFC 2818/6125 rule), so CN=localhost matches "localhost".
    // Fix: reissue the certificate with a subjectAltName. A client that wants the strict rule can refuse
    // certificates without SAN in its own checkServerIdentity (below).
    const cnOnly = useEndpoint('cn-only');
    const reissued = useEndpoint('cn-only', { fixed: true });
    const requireSan = (host: string, cert: PeerCertificate): Error | undefined =>
      cert.subjectaltname
        ? tls.checkServerIdentity(host, cert)
        : Object.assign(new Error(`${host}: the certificate has no subjectAltName`), { code: 'ERR_CERT_NO_SUBJECT_ALT_NAME' });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        describe('Node accepts the CN-only certificate', () => itSucceedsForEveryProbe(cnOnly, { version }));
        describe('a strict client: checkServerIdentity that requires a SAN', () =>
          itFailsForEveryProbe(
            cnOnly,
            { code: 'ERR_CERT_NO_SUBJECT_ALT_NAME', message: 'localhost: the certificate has no subjectAltName', phase: 'handshake' },
            { version, with: { checkServerIdentity: requireSan } },
          ));
        describe('fix: a certificate with a SAN (accepted by the strict client too)', () => {
          itSucceedsForEveryProbe(reissued, { version });
          itSucceedsForEveryProbe(reissued, { version, with: { checkServerIdentity: requireSan } });
        });
      });
    }
  });

  describe("no-sni-default-cert: a client without SNI gets the server's default certificate", () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… IP: 127.0.0.1 is not in the cert's list: ", and the error's
    // cert is the server's default certificate (default.example.test), not the one for localhost.
    // Why: the server picks its certificate by SNI. A client that connects by IP literal sends no SNI (RFC 6066
    // forbids IP addresses there), so it gets the default certificate, made for another name.
    // Fix: send SNI — connect by name (`servername: 'localhost'`). On the server: a default certificate that
    // clients without SNI can verify.
    const noSni = useEndpoint('no-sni-default-cert');
    const withSni = useEndpoint('no-sni-default-cert', { fixed: true });
    const reason = "IP: 127.0.0.1 is not in the cert's list: ";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(noSni, altnameInvalid(reason), { version });
        itCarriesHostAndCert(noSni, version, reason, '127.0.0.1', {
          CN: 'default.example.test',
          subjectaltname: 'DNS:default.example.test',
        });
        describe('fix: send SNI (servername localhost)', () => itSucceedsForEveryProbe(withSni, { version }));
      });
    }
  });

  describe("trailing-dot-host: 'localhost.' (absolute name) against a certificate for localhost (accepted)", () => {
    // What you see: nothing — every client completes the request. A browser accepts https://localhost./ too.
    // Why: "localhost." is the fully qualified form of the same name, and Node drops the trailing dot before
    // matching. It does not drop it from SNI, though: see trailing-dot-sni for a server that cares.
    const trailingDot = useEndpoint('trailing-dot-host');
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => itSucceedsForEveryProbe(trailingDot, { version }));
    }
  });

  describe("trailing-dot-sni: 'localhost.' against a server that picks its certificate by SNI", () => {
    // What you see: ERR_TLS_CERT_ALTNAME_INVALID "… Host: localhost. is not in the cert's altnames:
    // DNS:default.example.test" — the certificate for localhost is on the server, but another one came back.
    // Why: Node sends the SNI "localhost." with its dot (RFC 6066 says without), and a server that looks the
    // name up exactly (like Node's own `server.addContext('localhost', …)`) finds nothing and sends its default.
    // Fix: strip the trailing dot before connecting (`servername: 'localhost'`); servers should strip it too.
    // Servers differ (TLS_HARNESS_SERVER): openssl s_server compares the SNI name exactly, as Node's server does.
    // nginx is a server that strips it (ngx_http_validate_host drops a trailing dot from the SNI name before the
    // server_name lookup), so it sends the certificate for localhost, and every client connects.
    const trailingDot = useEndpoint('trailing-dot-sni');
    const stripped = useEndpoint('trailing-dot-sni', { fixed: true });
    const reason = "Host: localhost. is not in the cert's altnames: DNS:default.example.test";
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        if (SERVER_SOFTWARE === 'nginx') {
          describe("nginx drops the dot from the SNI name and sends the certificate for localhost", () =>
            itSucceedsForEveryProbe(trailingDot, { version }));
        } else {
          itFailsForEveryProbe(trailingDot, altnameInvalid(reason), { version });
          itCarriesHostAndCert(trailingDot, version, reason, 'localhost', {
            CN: 'default.example.test',
            subjectaltname: 'DNS:default.example.test',
          });
        }
        describe("fix: servername 'localhost', without the dot", () => itSucceedsForEveryProbe(stripped, { version }));
      });
    }
  });

  describe("uppercase-host: 'LOCALHOST' against a certificate for localhost (accepted)", () => {
    // What you see: nothing — every client completes the request. A browser accepts it too (its URL parser
    // lowercases the host before anything else).
    // Why: DNS names are case-insensitive (RFC 4343) and so is the certificate match (RFC 6125 §6.4.1); Node
    // lowercases A–Z on both sides before comparing.
    const upperCase = useEndpoint('uppercase-host');
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => itSucceedsForEveryProbe(upperCase, { version }));
    }
  });

  describe('idn-unicode-host: a Unicode host name (bücher.test) against a punycode certificate (xn--bcher-kva.test)', () => {
    // What you see: it depends on the Node. Node 22.23+, 24.17+ and 26.3.1+ connect. Node 20 fails with
    // ERR_TLS_CERT_ALTNAME_INVALID "… Host: bücher.test. is not in the cert's altnames: DNS:xn--bcher-kva.test".
    // Why: certificates carry internationalized names as A-labels (punycode), and a client must compare the A-label
    // of the name it was given (RFC 6125 §6.4.2), as browsers do. The fix for CVE-2026-48618 ("tls: normalize
    // hostname for server identity checks", June 2026 security releases) made checkServerIdentity do so, with
    // url.domainToASCII; Node 20 had reached its end of life and compares the Unicode name as given, which never
    // matches. (The `servername` is still sent as SNI exactly as given, in UTF-8, on every Node.) The WHATWG URL
    // parser converts the name anyway (below), so `fetch('https://bücher.test/')` asks for the A-label; the fetch
    // probe here passes the name as `servername`, like the other two.
    // Fix (needed on Node 20, harmless everywhere): convert the name first, `url.domainToASCII('bücher.test')` →
    // 'xn--bcher-kva.test'.
    const unicode = useEndpoint('idn-unicode-host');
    const ascii = useEndpoint('idn-unicode-host', { fixed: true });
    const reason = "Host: bücher.test. is not in the cert's altnames: DNS:xn--bcher-kva.test";

    it("url.domainToASCII('bücher.test') and new URL('https://bücher.test/').hostname give 'xn--bcher-kva.test'", () => {
      expect(domainToASCII('bücher.test')).to.equal('xn--bcher-kva.test');
      expect(new URL('https://bücher.test/').hostname).to.equal('xn--bcher-kva.test');
    });
    // Keyed on the Node release: whether it carries the CVE-2026-48618 fix (support/runtime.ts).
    it(`tls.checkServerIdentity('bücher.test', DNS:xn--bcher-kva.test) ${IDENTITY_CHECK_USES_ASCII_HOST ? 'matches' : 'fails'}`, () => {
      const cert = { subject: {}, subjectaltname: 'DNS:xn--bcher-kva.test' } as PeerCertificate;
      const error = tls.checkServerIdentity('bücher.test', cert);
      if (IDENTITY_CHECK_USES_ASCII_HOST) expect(error).to.equal(undefined);
      else expect(error).to.include({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason });
    });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        if (IDENTITY_CHECK_USES_ASCII_HOST) {
          describe("Node ≥ 22.23 / 24.17 / 26.3.1 matches the name's A-label: every client connects", () =>
            itSucceedsForEveryProbe(unicode, { version }));
        } else {
          describe('a Node without the CVE-2026-48618 fix (Node 20) compares the Unicode name as given', () => {
            itFailsForEveryProbe(unicode, altnameInvalid(reason), { version });
            itCarriesHostAndCert(unicode, version, reason, 'bücher.test', { subjectaltname: 'DNS:xn--bcher-kva.test' });
          });
        }
        describe("fix: servername domainToASCII('bücher.test')", () => itSucceedsForEveryProbe(ascii, { version }));
      });
    }
  });
});
