import { expect } from 'chai';
import { findScenario, scenarioMaterial } from '../harness/index.ts';
import { TLS_VERSIONS } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itFailsForEveryProbe, itSucceedsForEveryProbe } from './support/expectations.ts';

describe('validity', () => {
  describe('expired-leaf: the server certificate has expired', () => {
    // What you see: CERT_HAS_EXPIRED 'certificate has expired', from tls.connect, https and (as fetch's cause) fetch.
    // Why: the leaf's notAfter is in the past (here: yesterday). The chain is otherwise perfect; validity is
    // checked against the client's clock, during the handshake, before any byte of HTTP.
    // Fix: renew the certificate and reload the server. The renewed certificate is accepted.
    const expired = useEndpoint('expired-leaf');
    const renewed = useEndpoint('expired-leaf', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          expired,
          { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired', phase: 'handshake' },
          { version },
        );
        describe('fix: a renewed certificate', () => itSucceedsForEveryProbe(renewed, { version }));
      });
    }
  });

  describe('not-yet-valid-leaf: the server certificate is not valid yet', () => {
    // What you see: CERT_NOT_YET_VALID 'certificate is not yet valid', from every client, during the handshake.
    // Why: the leaf's notBefore is in the future (here: tomorrow) — deployed before its start date, or minted
    // against a wrong clock. If the dates look right, suspect the client's clock: one that is behind sees every
    // fresh certificate this way.
    // Fix: serve a certificate that is valid now (keep the old one until the new one starts).
    const early = useEndpoint('not-yet-valid-leaf');
    const current = useEndpoint('not-yet-valid-leaf', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          early,
          { code: 'CERT_NOT_YET_VALID', message: 'certificate is not yet valid', phase: 'handshake' },
          { version },
        );
        describe('fix: a certificate that is valid now', () => itSucceedsForEveryProbe(current, { version }));
      });
    }
  });

  describe('clock-skew-leaf: a fresh certificate minted by a clock a few minutes ahead', () => {
    // What you see: CERT_NOT_YET_VALID 'certificate is not yet valid' — for a few minutes after a renewal, and then
    // never again, which makes it look random.
    // Why: the issuer set notBefore to its own "now", which is ahead of the client's clock (here by 5 minutes).
    // Fix: backdate notBefore when issuing (public CAs backdate by up to an hour) and keep clocks in sync (NTP).
    const skewed = useEndpoint('clock-skew-leaf');
    const backdated = useEndpoint('clock-skew-leaf', { fixed: true });

    it('the leaf starts less than 5 minutes from now', async () => {
      const { server } = await scenarioMaterial(findScenario('clock-skew-leaf'));
      const startsIn = (server.chain[0]?.certificate.notBefore.getTime() ?? 0) - Date.now();
      expect(startsIn).to.be.above(0).and.at.most(5 * 60 * 1000);
    });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          skewed,
          { code: 'CERT_NOT_YET_VALID', message: 'certificate is not yet valid', phase: 'handshake' },
          { version },
        );
        describe('fix: a certificate backdated by an hour', () => itSucceedsForEveryProbe(backdated, { version }));
      });
    }
  });

  describe('expired-intermediate: a valid leaf sent with an expired intermediate', () => {
    // What you see: CERT_HAS_EXPIRED 'certificate has expired' — the same code as for an expired leaf, although the
    // leaf is fine: the error does not say which certificate of the chain expired.
    // Why: every certificate of the path is checked against the client's clock; the server still sends the CA's
    // old intermediate (a stale chain file after the CA renewed it).
    // Fix: send the CA's renewed intermediate (same name and key, new dates) with the unchanged leaf.
    const stale = useEndpoint('expired-intermediate');
    const renewed = useEndpoint('expired-intermediate', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          stale,
          { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired', phase: 'handshake' },
          { version },
        );
        describe('fix: send the renewed intermediate, same leaf', () => itSucceedsForEveryProbe(renewed, { version }));
      });
    }
  });

  describe('expired-root: the root the client trusts has expired', () => {
    // What you see: CERT_HAS_EXPIRED 'certificate has expired', although the server sends a valid leaf and a valid
    // intermediate.
    // Why: the client's copy of the root (its `ca`, or an outdated CA bundle) has expired, and OpenSSL checks the
    // dates of the trust anchor like those of every other certificate of the path. This is how old OpenSSL
    // clients broke when AddTrust External CA Root (2020) and DST Root CA X3 (2021) expired.
    // Fix: update the client's CA bundle: the renewed root (same name and key, new dates) is accepted.
    const outdated = useEndpoint('expired-root');
    const updated = useEndpoint('expired-root', { fixed: true });
    for (const version of TLS_VERSIONS) {
      describe(`over ${version}`, () => {
        itFailsForEveryProbe(
          outdated,
          { code: 'CERT_HAS_EXPIRED', message: 'certificate has expired', phase: 'handshake' },
          { version },
        );
        describe('fix: trust the renewed root', () => itSucceedsForEveryProbe(updated, { version }));
      });
    }
  });
});
