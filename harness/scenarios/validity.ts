import { certificate, localLeaf, type Pki } from '../../certs/index.ts';
import { fails, perVersion } from '../expect.ts';
import { certificateProblem, pythonRejects, sClientRejects, urlError } from '../expect-tools.ts';
import { defineScenario, fixed, leafServed, pems, type ScenarioMaterial } from '../scenario.ts';

/**
 * The expired leaf with its intermediate, to a client that trusts the root; the fix is the renewed leaf. Also the
 * server behind client-configuration's scenarios, whose clients are told to look away from the expiry.
 */
export async function servesExpiredLeaf(pki: Pki): Promise<ScenarioMaterial> {
  return leafServed(pki, await pki.expiredLeaf());
}

/** What every Node client reports for a chain with a certificate past its notAfter. */
export const CERTIFICATE_HAS_EXPIRED = fails('CERT_HAS_EXPIRED', 'certificate has expired');
const NOT_YET_VALID = fails('CERT_NOT_YET_VALID', 'certificate is not yet valid');

/** Validity is given in days; these turn minutes and hours into days. */
const MINUTES = 1 / (24 * 60);
const HOURS = 1 / 24;

export const validityScenarios = [
  defineScenario({
    id: 'expired-leaf',
    family: 'validity',
    title: 'Expired server certificate',
    cause:
      "The server's certificate has a notAfter date in the past (here: yesterday). Every chain check compares " +
      "validity with the client's clock, during the handshake, before any byte of HTTP: an otherwise perfect chain is " +
      'refused the moment the certificate lapses.',
    fix: 'Renew the certificate and reload the server (automate renewal, e.g. ACME). Check the client clock too.',
    expect: 'reject',
    setup: servesExpiredLeaf,
    node: [{ expect: CERTIFICATE_HAS_EXPIRED }, fixed('a renewed certificate')],
    tools: {
      ...certificateProblem(10, 'certificate has expired', 'certificate expired'),
      // Over TLS 1.2, s_client's summary prints the session's verify result, and the session was never established:
      // 'Verify return code: 0 (ok)' under a failed verification. The reason is in 'verify error:num=…' (and in its
      // 'Verification error:' line). Over TLS 1.3 the summary prints the connection's own result.
      sClient: perVersion(
        sClientRejects(10, 'certificate has expired', 'certificate expired'),
        sClientRejects(10, 'certificate has expired', 'certificate expired', { verify: '0 (ok)' }),
      ),
      urllib: urlError(pythonRejects('certificate has expired')),
    },
  }),
  defineScenario({
    id: 'not-yet-valid-leaf',
    family: 'validity',
    title: 'Server certificate whose validity has not started yet',
    cause:
      "The server's certificate has a notBefore date in the future (here: tomorrow) — it was deployed before its " +
      'validity starts, or it was minted against a wrong clock. The client compares notBefore with its own clock ' +
      'and refuses the chain exactly as it refuses an expired one.',
    fix:
      'Serve a certificate that is valid now (keep the old one until the new one starts). If the dates look right, ' +
      'check the client clock: a client whose clock is behind sees every fresh certificate as not yet valid.',
    expect: 'reject',
    setup: (pki) => leafServed(pki, localLeaf('localhost').label('not-yet-valid leaf').validDays(1, 31)),
    node: [{ expect: NOT_YET_VALID }, fixed('a certificate that is valid now')],
    tools: certificateProblem(9, 'certificate is not yet valid', 'bad certificate'),
  }),
  defineScenario({
    id: 'clock-skew-leaf',
    family: 'validity',
    title: 'Certificate issued a few minutes in the future (clock skew)',
    cause:
      'A freshly minted certificate has notBefore = the issuing machine\'s "now", and that machine\'s clock is a few ' +
      "minutes ahead of the client's (here: notBefore is 5 minutes in the future). For those minutes every client " +
      'with a correct clock refuses it as not yet valid; the failure then disappears by itself, which makes it look ' +
      'random and hard to reproduce.',
    fix:
      'Backdate notBefore when issuing (public CAs backdate by up to an hour; e.g. `openssl ca -startdate`, or the ' +
      'backdate option of your CA tooling), and keep the clocks of issuer, server and client in sync (NTP).',
    expect: 'reject',
    setup: (pki) =>
      leafServed(
        pki,
        localLeaf('localhost')
          .label('leaf minted 5 minutes ahead')
          .validDays(5 * MINUTES, 30),
        {
          fixedLeaf: localLeaf('localhost')
            .label('leaf backdated by an hour')
            .validDays(-1 * HOURS, 30),
        },
      ),
    node: [{ expect: NOT_YET_VALID }, fixed('a certificate backdated by an hour')],
    tools: certificateProblem(9, 'certificate is not yet valid', 'bad certificate'),
  }),
  defineScenario({
    id: 'expired-intermediate',
    family: 'validity',
    title: 'Valid leaf sent with an expired intermediate CA certificate',
    cause:
      'The leaf is valid, but the intermediate CA certificate the server sends with it has expired. Every ' +
      "certificate of the path is checked against the client's clock, so the whole chain is refused — with the same " +
      'code as an expired leaf: the error does not say which certificate expired. Typical when a server keeps a ' +
      'stale chain file after the CA renewed its intermediate.',
    fix:
      "Send the CA's current intermediate certificate (the renewed one: same name and key, new dates) with the " +
      'leaf: update the chain / fullchain file. The leaf does not need to change.',
    expect: 'reject',
    async setup(pki) {
      const root = await pki.rootCa();
      const expiredIntermediate = await certificate('tls-harness Expiring Intermediate CA')
        .label('expired intermediate')
        .ca({ pathLength: 0 })
        .validDays(-400, -1)
        .issuedBy(root)
        .build();
      const leaf = await localLeaf('localhost').issuedBy(expiredIntermediate).build();
      // The CA renews its intermediate as CAs do: same subject, same key, new validity. The leaf still chains to it.
      const renewedIntermediate = await certificate('tls-harness Expiring Intermediate CA')
        .label('renewed intermediate')
        .ca({ pathLength: 0 })
        .key(expiredIntermediate.key)
        .validDays(-1, 3650)
        .issuedBy(root)
        .build();
      return {
        server: { chain: [leaf, expiredIntermediate] },
        client: { ca: pems(root) },
        fixed: { server: { chain: [leaf, renewedIntermediate] } },
      };
    },
    node: [{ expect: CERTIFICATE_HAS_EXPIRED }, fixed('send the renewed intermediate, same leaf')],
    tools: certificateProblem(10, 'certificate has expired', 'certificate expired'),
  }),
  defineScenario({
    id: 'expired-root',
    family: 'validity',
    title: 'The trusted root CA certificate has expired',
    cause:
      "Leaf and intermediate are valid, but the root certificate in the client's trust store has expired (an " +
      'outdated CA bundle, as when AddTrust External CA Root expired in May 2020 and DST Root CA X3 in September ' +
      '2021, and old OpenSSL clients broke). OpenSSL checks the dates of every certificate of the path, the trust ' +
      'anchor included.',
    fix:
      "Update the client's CA bundle to the CA's renewed root (same name and key, new dates), or to the root the CA " +
      'now chains to (update the OS / ca-certificates package, or the PEM you pass as `ca`).',
    expect: 'reject',
    async setup() {
      const expiredRoot = await certificate('tls-harness Aging Root CA').label('expired root').ca().validDays(-3650, -1).build();
      const intermediate = await certificate('tls-harness Aging Intermediate CA')
        .ca({ pathLength: 0 })
        .validDays(-30, 3650)
        .issuedBy(expiredRoot)
        .build();
      const leaf = await localLeaf('localhost').issuedBy(intermediate).build();
      // The renewed root: self-signed again with the same subject and key, so the intermediate chains to it.
      const renewedRoot = await certificate('tls-harness Aging Root CA')
        .label('renewed root')
        .ca()
        .key(expiredRoot.key)
        .validDays(-1, 3650)
        .build();
      return {
        server: { chain: [leaf, intermediate] },
        client: { ca: pems(expiredRoot) },
        fixed: { client: { ca: pems(renewedRoot) } },
      };
    },
    node: [{ expect: CERTIFICATE_HAS_EXPIRED }, fixed('trust the renewed root')],
    tools: certificateProblem(10, 'certificate has expired', 'certificate expired'),
  }),
];
