import type { LimboTestcase } from './model.ts';

/**
 * What a limbo test case may ask for that Node's TLS stack cannot be told, each with the reason. A case that needs any
 * of them is SKIPPED with `<feature>: <reason>` as its context (all of them, joined with '; '), so every skip says, as
 * data, which constraint Node could not express. Measured on Node 20–26: none of these has a tls option.
 */
export const SKIP_FEATURES = [
  'no-peer-key',
  'max-chain-depth',
  'key-usage',
  'extended-key-usage',
  'signature-algorithms',
  'rfc822-peer-name',
  'client-peer-names',
  'validation-time',
  'unpresentable',
] as const;
export type SkipFeature = (typeof SKIP_FEATURES)[number];

export interface Skip {
  feature: SkipFeature;
  reason: string;
}

/** The context line of a SKIPPED result. */
export function skipContext(skips: readonly Skip[]): string {
  return skips.map((skip) => `${skip.feature}: ${skip.reason}`).join('; ');
}

/** The feature a SKIPPED result's context names first (for the summary). */
export function skipFeatureOf(context: string | null): string {
  return context?.split(':', 1)[0] ?? '';
}

/**
 * Why Node cannot run this case as the handshake the case describes; empty when it can. `validation_time` is not
 * judged here: the runner runs such a case under libfaketime when it can (and skips it with `validation-time` when not).
 */
export function skipsOf(testcase: LimboTestcase): Skip[] {
  const skips: Skip[] = [];
  const skip = (feature: SkipFeature, reason: string) => skips.push({ feature, reason });
  if (testcase.peer_certificate_key === null) {
    skip(
      'no-peer-key',
      'the case has no peer_certificate_key: a TLS peer must sign the handshake with the key of the certificate it presents',
    );
  }
  if (testcase.max_chain_depth !== null) {
    skip(
      'max-chain-depth',
      `max_chain_depth ${testcase.max_chain_depth}: Node has no option to limit the verification depth (OpenSSL's X509_VERIFY_PARAM depth is not exposed; its default, 100, applies)`,
    );
  }
  if (testcase.key_usage.length > 0) {
    skip(
      'key-usage',
      `key_usage ${testcase.key_usage.join(', ')}: Node cannot require key usages of the peer certificate (OpenSSL checks keyUsage only as the TLS purpose implies)`,
    );
  }
  // Node's client verifies the server's chain for OpenSSL's purpose sslserver (EKU serverAuth where the leaf has an
  // EKU), its server a client's chain for sslclient (clientAuth). That is the one EKU each side can check; an empty
  // list leaves Node's own check in place, since no option turns it off.
  const checked = testcase.validation_kind === 'SERVER' ? 'serverAuth' : 'clientAuth';
  const otherEkus = testcase.extended_key_usage.filter((eku) => eku !== checked);
  if (otherEkus.length > 0) {
    skip(
      'extended-key-usage',
      `extended_key_usage ${otherEkus.join(', ')}: a Node ${testcase.validation_kind === 'SERVER' ? 'client checks a server' : 'server checks a client'} certificate for ${checked} only (OpenSSL purpose ${checked === 'serverAuth' ? 'sslserver' : 'sslclient'}), and has no option for another`,
    );
  }
  if (testcase.signature_algorithms.length > 0) {
    skip(
      'signature-algorithms',
      `signature_algorithms ${testcase.signature_algorithms.join(', ')}: Node cannot restrict the signature algorithms of the certificates it verifies (sigalgs constrain the handshake, not the chain)`,
    );
  }
  const peerNames = [...(testcase.expected_peer_name ? [testcase.expected_peer_name] : []), ...testcase.expected_peer_names];
  const emails = peerNames.filter((name) => name.kind === 'RFC822');
  if (emails.length > 0) {
    skip(
      'rfc822-peer-name',
      `peer name ${emails.map((name) => name.value).join(', ')} is an email address: Node checks DNS names and IP addresses only (tls.checkServerIdentity)`,
    );
  }
  const clientNames = testcase.validation_kind === 'CLIENT' ? testcase.expected_peer_names.filter((name) => name.kind !== 'RFC822') : [];
  if (clientNames.length > 0) {
    skip(
      'client-peer-names',
      `expected_peer_names ${clientNames.map((name) => `${name.kind}:${name.value}`).join(', ')}: a Node server checks no name of a client certificate`,
    );
  }
  return skips;
}
