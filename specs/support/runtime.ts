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

/**
 * OpenSSL 3.2 renamed the TLS alert reason strings from "sslv3 alert …" to "ssl/tls alert …"; Node derives its
 * ERR_SSL_* codes from them, so the same alert has a different code on Node 20 (3.0) and Node 22+ (3.5).
 */
export const ALERT_PREFIX = opensslAtLeast(3, 2)
  ? { code: 'ERR_SSL_SSL/TLS_ALERT_', reason: 'ssl/tls alert' }
  : { code: 'ERR_SSL_SSLV3_ALERT_', reason: 'sslv3 alert' };
