/**
 * The facts about a Node runtime that decide how its TLS clients behave where Node lines differ. Each is written once,
 * with the change that introduced it; expectations in the scenario declarations are keyed on these names
 * (`when('alertNamesSslTls', …)`), never on version numbers.
 *
 * A fact is a function of a Runtime — the versions of Node, its OpenSSL and its undici — so the same declarations are
 * evaluated for the running Node (the specs, `catalog --json`) and for every documented Node line (docs/CATALOG.md).
 */

/** The versions that decide a Node client's behaviour. */
export interface Runtime {
  node: string;
  openssl: string;
  undici: string;
}

/** The Node running this process. */
export const RUNNING: Runtime = {
  node: process.versions.node,
  openssl: process.versions.openssl ?? '0',
  undici: process.versions.undici ?? '0',
};

/**
 * The Node lines the catalog documents, each as the exact release the matrix last proved it on. docs/CATALOG.md is
 * rendered from the declarations evaluated for these; specs/catalog.spec.ts fails on a release of the same line whose
 * facts differ (update the entry, re-render the page).
 */
export const NODE_LINES: readonly Runtime[] = [
  { node: '20.20.2', openssl: '3.0.19', undici: '6.24.1' },
  { node: '22.23.5', openssl: '3.5.9', undici: '6.29.1' },
  { node: '24.22.3', openssl: '3.5.9', undici: '7.30.2' },
  { node: '26.12.1', openssl: '3.5.9', undici: '8.12.2' },
];

/** `a` compared with `b`, both dotted versions (`3.5.9`, `22.23`): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

const atLeast = (version: string, wanted: string) => compareVersions(version, wanted) >= 0;
const major = (runtime: Runtime) => Number(runtime.node.split('.')[0]);

export interface Fact {
  /** What holds, in a few words: the heading of a difference in the docs. */
  says: string;
  /** Why, with the change that made it so. */
  why: string;
  holds(runtime: Runtime): boolean;
}

export const FACTS = {
  alertNamesSslTls: {
    says: "OpenSSL ≥ 3.2 names SSL 3.0's alerts 'ssl/tls alert …'",
    why:
      "OpenSSL 3.2 renamed the reason strings of SSL 3.0's alerts from 'sslv3 alert …' to 'ssl/tls alert …'. Node " +
      'derives its ERR_SSL_* codes from them, so the same alert is ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE on Node 20 ' +
      '(OpenSSL 3.0) and ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE on Node 22+ (OpenSSL 3.5).',
    holds: (runtime) => atLeast(runtime.openssl, '3.2'),
  },
  systemCaHint: {
    says: 'Node ≥ 23.11 suggests --use-system-ca',
    why:
      'Node 23.11.0 ("src: suggest --use-system-ca when a certificate error occurs", #57362; never backported to 22.x ' +
      'or 20.x) appends "; if the root CA is installed locally, try running Node.js with --use-system-ca" to the ' +
      'messages of DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE and UNABLE_TO_GET_ISSUER_CERT, the ' +
      'errors a locally installed root CA would typically fix (doc/api/tls.md, "X509 certificate error codes").',
    holds: (runtime) => atLeast(runtime.node, '23.11'),
  },
  securityLevel2: {
    says: 'Node runs OpenSSL at security level 2 by default (Node 24.5+)',
    why:
      'The level a Node client or server runs at when its `ciphers` set none is a build-time default of the OpenSSL it ' +
      'bundles. OpenSSL < 3.2 defaults to level 1 (80 bits): Node 20. OpenSSL 3.2 raised its own default to level 2 ' +
      '(112 bits: RSA and DH ≥ 2048); Node 24.5.0 took that over with OpenSSL 3.5 (#58100, doc #59723), and so do 25 ' +
      'and 26. Node 22.20.0 moved to OpenSSL 3.5 too, but its backport (#59859) pinned the default to level 1, so as ' +
      'not to break 22.x users.',
    holds: (runtime) => atLeast(runtime.openssl, '3.2') && major(runtime) !== 22,
  },
  asciiHostCheck: {
    says: 'checkServerIdentity compares the A-label of a Unicode host name (Node 22.23, 24.17, 26.3.1)',
    why:
      "tls.checkServerIdentity compares the host name's ASCII form (url.domainToASCII) with the certificate's DNS " +
      'names since the fix for CVE-2026-48618 ("tls: normalize hostname for server identity checks", commit ' +
      '1efb4ff51a; June 2026 security releases 22.23.0, 24.17.0 and 26.3.1). Node 20 had reached its end of life and ' +
      'compares the name exactly as given, so a Unicode name never matches its punycode SAN there.',
    holds: (runtime) => {
      const [line = 0] = runtime.node.split('.').map(Number);
      if (line > 26) return true;
      const fixedIn: Record<number, string> = { 22: '22.23.0', 24: '24.17.0', 26: '26.3.1' };
      return fixedIn[line] !== undefined && atLeast(runtime.node, fixedIn[line]);
    },
  },
  fetchOffersH2: {
    says: 'fetch offers h2 in ALPN (undici 8: Node 26)',
    why:
      "undici 8 (Node 26) makes fetch's connector offer h2 besides http/1.1 in ALPN; up to undici 7 (Node 20–24) it " +
      'offers exactly http/1.1, whatever ALPNProtocols its connect options carry.',
    holds: (runtime) => atLeast(runtime.undici, '8'),
  },
  legacyVersionsNotOffered: {
    says: 'OpenSSL 3.5 does not offer TLS 1.0/1.1 at security level 1',
    why:
      "With minVersion 'TLSv1' alone, OpenSSL 3.0 offers TLS 1.0 and 1.1 but then refuses the SHA-1/MD5 signature of " +
      "a TLS 1.1 key exchange ('legacy sigalg disallowed or unsupported'); OpenSSL 3.5 does not even offer them, so " +
      "the server's protocol_version alert comes back. (Observed on 3.0.19 and 3.5.9; Node ships no OpenSSL in between.)",
    holds: (runtime) => atLeast(runtime.openssl, '3.5'),
  },
  sha1LeafLoads: {
    says: 'a server at the default level loads a SHA-1 signed certificate (OpenSSL ≥ 3.5)',
    why:
      'Observed: with OpenSSL 3.0.19 (Node 20) a Node server at its default security level refuses to load a ' +
      "certificate its CA signed with SHA-1 ('ca md too weak'); with OpenSSL 3.5.9 (Node 22+) it loads it, and only " +
      'the clients refuse it.',
    holds: (runtime) => atLeast(runtime.openssl, '3.5'),
  },
} as const satisfies Record<string, Fact>;

export type FactName = keyof typeof FACTS;
export const FACT_NAMES = Object.keys(FACTS) as FactName[];

export function holds(fact: FactName, runtime: Runtime = RUNNING): boolean {
  return FACTS[fact].holds(runtime);
}

/** Every fact's value on a runtime: what must match between a documented Node line and the Node that proves it. */
export function factsOf(runtime: Runtime): Record<FactName, boolean> {
  return Object.fromEntries(FACT_NAMES.map((name) => [name, holds(name, runtime)])) as Record<FactName, boolean>;
}

/** The documented line of a runtime (same Node major), if any. */
export function lineOf(runtime: Runtime): Runtime | undefined {
  return NODE_LINES.find((line) => major(line) === major(runtime));
}

/** `Node 22` for a runtime. */
export function lineName(runtime: Runtime): string {
  return `Node ${major(runtime)}`;
}
