import type { SecureVersion } from 'node:tls';

/** The protocol versions every scenario is probed over, newest first. */
export const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1.3', 'TLSv1.2'];

/** Pin both ends of the client's version range, so a spec says exactly which protocol it is about. */
export function only(version: SecureVersion): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  return { minVersion: version, maxVersion: version };
}

const [major = 0, minor = 0] = (process.versions.openssl ?? '0.0').split('.').map(Number);

/** True when the OpenSSL that this Node is linked against is at least `wantMajor.wantMinor`. */
export function opensslAtLeast(wantMajor: number, wantMinor: number): boolean {
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

const [nodeMajor = 0, nodeMinor = 0, nodePatch = 0] = process.versions.node.split('.').map(Number);

/** The major version of the running Node (20, 22, 24, 26…). */
export const NODE_MAJOR = nodeMajor;

/** True when the running Node is at least `wantMajor.wantMinor.wantPatch`. */
export function nodeAtLeast(wantMajor: number, wantMinor = 0, wantPatch = 0): boolean {
  if (nodeMajor !== wantMajor) return nodeMajor > wantMajor;
  if (nodeMinor !== wantMinor) return nodeMinor > wantMinor;
  return nodePatch >= wantPatch;
}

/**
 * OpenSSL 3.2 renamed the TLS alert reason strings from "sslv3 alert …" to "ssl/tls alert …"; Node derives its
 * ERR_SSL_* codes from them, so the same alert has a different code on Node 20 (3.0) and Node 22+ (3.5).
 */
export const ALERT_PREFIX = opensslAtLeast(3, 2)
  ? { code: 'ERR_SSL_SSL/TLS_ALERT_', reason: 'ssl/tls alert' }
  : { code: 'ERR_SSL_SSLV3_ALERT_', reason: 'sslv3 alert' };

/**
 * The OpenSSL security level a Node client or server runs at when its `ciphers` set none (`…@SECLEVEL=n`).
 * It is a build-time default of the OpenSSL that Node bundles, not visible from JavaScript, so it is derived from the
 * versions:
 * - OpenSSL < 3.2 defaults to level 1 (80 bits): Node 20 (3.0), and Node 22 / 24 before their OpenSSL 3.5 updates.
 * - OpenSSL 3.2 raised its own default to level 2 (112 bits: RSA/DH ≥ 2048). Node 24.5.0 ("Upgrade to OpenSSL 3.5",
 *   #58100) took that default over, and so do Node 25 and 26 (Node doc commit "doc: update OpenSSL default security
 *   level to 2", #59723).
 * - Node 22.20.0 moved to OpenSSL 3.5 too, but its backport ("[v22.x] Update to OpenSSL 3.5", #59859) first pinned
 *   the default to level 1, so as not to break 22.x users: Node 22 stays at level 1 on OpenSSL 3.5.
 */
export const DEFAULT_SECURITY_LEVEL: 1 | 2 = !opensslAtLeast(3, 2) || NODE_MAJOR === 22 ? 1 : 2;

/**
 * Node ≥ 23.11.0, and so every 24.x and later ("src: suggest --use-system-ca when a certificate error occurs",
 * #57362, commit 3cff7f80bb; never backported to 22.x or 20.x) appends this hint to the message of three chain
 * verification errors, the ones a locally installed root CA would typically fix (doc/api/tls.md, "X509 certificate
 * error codes"). SELF_SIGNED_CERT_IN_CHAIN and UNABLE_TO_GET_ISSUER_CERT_LOCALLY, for example, do not get it.
 * Observed for a Node started without --use-system-ca, as the specs run (with it, UNABLE_TO_GET_ISSUER_CERT has no
 * hint on Node 24.22).
 */
const SYSTEM_CA_HINT = '; if the root CA is installed locally, try running Node.js with --use-system-ca';
const HINTED_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
]);
const NODE_HINTS_SYSTEM_CA = nodeAtLeast(23, 11);

/**
 * The exact `error.message` the running Node gives for a failed chain verification with Node code `code` and
 * OpenSSL reason `reason` (X509_verify_cert_error_string), e.g. `verifyMessage('DEPTH_ZERO_SELF_SIGNED_CERT',
 * 'self-signed certificate')`: the reason itself, plus the --use-system-ca hint where this Node appends it.
 */
export function verifyMessage(code: string, reason: string): string {
  return NODE_HINTS_SYSTEM_CA && HINTED_CODES.has(code) ? `${reason}${SYSTEM_CA_HINT}` : reason;
}

/**
 * tls.checkServerIdentity compares the host name's ASCII form (url.domainToASCII: IDNA / punycode) with the
 * certificate's DNS names since the fix for CVE-2026-48618 ("tls: normalize hostname for server identity checks",
 * commit 1efb4ff51a; June 2026 security releases 22.23.0, 24.17.0 and 26.3.1). Node 20 reached its end of life
 * before that and compares the name exactly as given, so a Unicode name never matches its punycode SAN there.
 */
export const IDENTITY_CHECK_USES_ASCII_HOST =
  NODE_MAJOR > 26 ||
  (NODE_MAJOR === 26 && nodeAtLeast(26, 3, 1)) ||
  (NODE_MAJOR === 24 && nodeAtLeast(24, 17, 0)) ||
  (NODE_MAJOR === 22 && nodeAtLeast(22, 23, 0));
