import * as tls from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { domainToASCII } from 'node:url';
import { expect } from 'chai';
import { holds } from '../harness/index.ts';
import { describeFamily } from './support/runner.ts';
import { carriesHostAndCert } from './support/errors.ts';

await describeFamily('hostname', {
  'wrong-host': carriesHostAndCert('localhost', { subjectaltname: 'DNS:wrong.host.example' }),
  'ip-literal-vs-dns-san': carriesHostAndCert('127.0.0.1', { CN: 'localhost', subjectaltname: 'DNS:localhost' }),
  'ip-as-dns-san': carriesHostAndCert('127.0.0.1', { subjectaltname: 'DNS:127.0.0.1' }),
  // The error's cert is the server's default certificate, not the one for localhost.
  'no-sni-default-cert': carriesHostAndCert('127.0.0.1', { CN: 'default.example.test', subjectaltname: 'DNS:default.example.test' }),
  'trailing-dot-sni': carriesHostAndCert('localhost', { CN: 'default.example.test', subjectaltname: 'DNS:default.example.test' }),
  'idn-unicode-host': {
    ...carriesHostAndCert('bücher.test', { subjectaltname: 'DNS:xn--bcher-kva.test' }),
    once() {
      it("url.domainToASCII('bücher.test') and new URL('https://bücher.test/').hostname give 'xn--bcher-kva.test'", () => {
        expect(domainToASCII('bücher.test')).to.equal('xn--bcher-kva.test');
        expect(new URL('https://bücher.test/').hostname).to.equal('xn--bcher-kva.test');
      });
      // Keyed on the fact the declaration's expectation is keyed on: whether this Node has the CVE-2026-48618 fix.
      const matches = holds('asciiHostCheck');
      it(`tls.checkServerIdentity('bücher.test', DNS:xn--bcher-kva.test) ${matches ? 'matches' : 'fails'}`, () => {
        const cert = { subject: {}, subjectaltname: 'DNS:xn--bcher-kva.test' } as PeerCertificate;
        const error = tls.checkServerIdentity('bücher.test', cert);
        if (matches) expect(error).to.equal(undefined);
        else
          expect(error).to.include({
            code: 'ERR_TLS_CERT_ALTNAME_INVALID',
            reason: "Host: bücher.test. is not in the cert's altnames: DNS:xn--bcher-kva.test",
          });
      });
    },
  },
});
