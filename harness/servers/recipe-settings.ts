import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import type { SecureVersion } from 'node:tls';
import { pemBlocks, type Credential } from '../../certs/index.ts';
import type { ServerRecipe } from '../scenario.ts';
import { Unsupported } from './backend.ts';

/**
 * The translation every OpenSSL-based child server (s_server, nginx) shares: a ServerRecipe means what the same
 * fields mean as node:tls server options, so a field the recipe leaves unset takes *Node's* default, not the other
 * server's — the backends then differ in how they behave, not in how they were configured.
 */

/** TLS versions and cipher lists, resolved the way Node resolves them for a server. */
export interface TlsSettings {
  /** tls.DEFAULT_MIN_VERSION (TLSv1.2) unless the recipe says otherwise. */
  minVersion: SecureVersion;
  /** tls.DEFAULT_MAX_VERSION (TLSv1.3) unless the recipe says otherwise. */
  maxVersion: SecureVersion;
  /** The TLS ≤ 1.2 cipher string (OpenSSL's CipherString), including any `@SECLEVEL=n`. */
  cipherList: string;
  /** The TLS 1.3 suites (OpenSSL's Ciphersuites); undefined keeps OpenSSL's default, as Node does. */
  cipherSuites: string | undefined;
}

/**
 * Node splits its `ciphers` option (default tls.DEFAULT_CIPHERS) into TLS 1.3 suites (the `TLS_*` names) and the
 * TLS ≤ 1.2 cipher string, and sets the TLS 1.3 list only when it names at least one suite
 * (lib/internal/tls/secure-context.js, processCiphers). The same split, for servers that take the two separately.
 */
export function tlsSettings(recipe: ServerRecipe): TlsSettings {
  const entries = (recipe.ciphers ?? tls.DEFAULT_CIPHERS).split(':').filter((entry) => entry !== '');
  const suites = entries.filter((entry) => entry.startsWith('TLS_'));
  const settings: TlsSettings = {
    minVersion: recipe.minVersion ?? (tls.DEFAULT_MIN_VERSION as SecureVersion),
    maxVersion: recipe.maxVersion ?? (tls.DEFAULT_MAX_VERSION as SecureVersion),
    cipherList: entries.filter((entry) => !entry.startsWith('TLS_')).join(':'),
    cipherSuites: suites.length > 0 ? suites.join(':') : undefined,
  };
  for (const value of [settings.cipherList, settings.cipherSuites ?? '']) {
    if (!/^[A-Za-z0-9_:!@+=.,-]*$/.test(value)) throw new Unsupported(`cipher string with unexpected characters: ${value}`);
  }
  return settings;
}

/** Node's version names, in order; OpenSSL's MinProtocol/MaxProtocol use the same names. */
export const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** The versions from min to max, e.g. for nginx's `ssl_protocols`. */
export function versionRange(settings: TlsSettings): SecureVersion[] {
  return VERSIONS.slice(VERSIONS.indexOf(settings.minVersion), VERSIONS.indexOf(settings.maxVersion) + 1);
}

/**
 * An openssl.cnf for the child (passed as OPENSSL_CONF) whose `system_default` section carries the recipe's TLS
 * settings. Two reasons:
 * - The system's /etc/ssl/openssl.cnf (Debian: `CipherString = DEFAULT@SECLEVEL=2`) would otherwise apply to the
 *   child; Node reads no system OpenSSL configuration, so neither do the harness's servers.
 * - OpenSSL applies `system_default` when the SSL_CTX is created, before the server loads its certificate. nginx
 *   loads the certificate before it applies `ssl_ciphers`, so a `@SECLEVEL=0` there comes too late for a key that
 *   level 1 refuses (RSA-512); here it is in force from the start.
 */
export function opensslConfig(settings: TlsSettings): string {
  return [
    '# Written by tls-harness for one server; removed with it.',
    'openssl_conf = tls_harness_init',
    '[tls_harness_init]',
    'ssl_conf = tls_harness_ssl',
    '[tls_harness_ssl]',
    'system_default = tls_harness_tls',
    '[tls_harness_tls]',
    `MinProtocol = ${settings.minVersion}`,
    `MaxProtocol = ${settings.maxVersion}`,
    `CipherString = ${settings.cipherList}`,
    ...(settings.cipherSuites ? [`Ciphersuites = ${settings.cipherSuites}`] : []),
    '',
  ].join('\n');
}

/** The certificate and key the server is configured with: the chain's, or the recipe's raw material as given. */
export interface ServerIdentity {
  /** The whole `cert` value, leaf first, exactly as Node would get it (PEM text, or DER bytes by mistake). */
  cert: string | Buffer;
  key: string | Buffer;
  passphrase: string | undefined;
}

export function serverIdentity(recipe: ServerRecipe): ServerIdentity {
  const [leaf] = recipe.chain;
  const cert = recipe.raw?.cert ?? recipe.chain.map((c) => c.certPem).join('');
  const key = recipe.raw?.key ?? leaf?.keyPem;
  if (key === undefined || cert === '') throw new Error('a server recipe needs at least a leaf certificate');
  return { cert, key, passphrase: recipe.raw?.passphrase };
}

/**
 * `cert` split into the leaf and the rest of the chain, for a server that takes them separately (s_server: `-cert`
 * reads only the first certificate of its file, the chain needs `-cert_chain`). Material that is not PEM text
 * (DER bytes where PEM is expected) is handed over whole as the leaf, so the server meets it as it is.
 */
export function splitCertificates(cert: string | Buffer): { leaf: string | Buffer; rest: string | undefined } {
  const text = typeof cert === 'string' ? cert : cert.toString('latin1');
  const blocks = pemBlocks(text);
  if (blocks.length === 0 || (typeof cert !== 'string' && !text.trimStart().startsWith('-----BEGIN')))
    return { leaf: cert, rest: undefined };
  const [leaf = '', ...rest] = blocks;
  return { leaf, rest: rest.length > 0 ? rest.join('') : undefined };
}

/** True when every certificate of the chain after the leaf issued the one before it. */
export function isIssuanceChain(chain: Credential[]): boolean {
  return chain.every((credential, index) => {
    const issuer = chain[index + 1];
    return issuer === undefined || new X509Certificate(credential.certPem).checkIssued(new X509Certificate(issuer.certPem));
  });
}
