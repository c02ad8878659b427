import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePemFiles, type PemFiles } from '../../certs/index.ts';
import type { Scenario, ServerRecipe } from '../scenario.ts';
import { assertSupported, successBody, type RunningServer, type ServerBackend } from './backend.ts';
import { childServer, findExecutable, startChild } from './child.ts';
import { freePort } from './ports.ts';
import { opensslConfig, serverIdentity, splitCertificates, tlsSettings } from './recipe-settings.ts';

const NO_EVENTS = "openssl s_server reports no per-connection events: its output does not name the client's port";

/**
 * `openssl s_server` as a child process on 127.0.0.1, one per endpoint, answering every HTTP request with its
 * `-www` status page (see readStatusPage). It is OpenSSL's own reference server, so it shows what a server does that
 * lets OpenSSL judge the client certificate during the handshake: it sends the alert (`unknown ca`, `certificate
 * expired`…) where a Node server closes the connection without one.
 *
 * The translation, field by field (what Node does with the same recipe in brackets):
 * - chain → `-cert` (the leaf: s_server reads only the first certificate of that file) + `-key` + `-cert_chain`
 *   (the rest); raw key/cert/passphrase are written to files exactly as given (`-pass file:`), so material s_server
 *   cannot read makes it exit at start, and the start fails with its error (ServerStartError). s_server detects
 *   the format of what it reads, so a DER certificate where Node wants PEM is served — alone, without a chain.
 * - minVersion/maxVersion → `-min_protocol`/`-max_protocol` (Node's defaults TLSv1.2–TLSv1.3 when unset).
 * - ciphers → `-cipher` (TLS ≤ 1.2) and `-ciphersuites` (the TLS_* names), split as Node splits them; Node's default
 *   list when unset.
 * - dhparam → `-dhparam`; without it `-no_dhe` [Node: no DH parameters, no DHE suites].
 * - alpn → `-alpn` (a list with no overlap gets the no_application_protocol alert, as from Node).
 * - clientAuth `require` → `-Verify 100 -verify_return_error` [Node: requestCert + rejectUnauthorized]; `request` →
 *   `-verify 100`, which asks and ignores verification errors [rejectUnauthorized: false]. The trusted CAs and any
 *   CRLs go into `-CAfile` (OpenSSL loads certificates and CRLs from it), with `-crl_check_all` [Node's `crl` checks
 *   the whole chain].
 * - sni → `-servername NAME -cert2 -key2`: one name only, and s_server gives that context no `-cert_chain`; its
 *   chain is built from `-CAfile` instead, which must then hold nothing else (no clientAuth).
 * - The system's openssl.cnf is replaced by one that holds these settings (see opensslConfig).
 * Not expressible (Unsupported): a non-TLS `behaviour`, http2, more than one SNI name, SNI together with client
 * authentication. Per-connection server events: s_server does not say which client port a line is about.
 */
export const opensslBackend: ServerBackend = {
  name: 'openssl',
  software: 'openssl',
  lacks: {
    'plain-http': "openssl s_server cannot answer in plain HTTP (behaviour 'plain-http'): it always speaks TLS",
    'reset-on-client-hello':
      "openssl s_server cannot reset a connection when the ClientHello arrives (behaviour 'reset-on-client-hello'): it always speaks TLS",
    silent: "openssl s_server cannot accept a connection and stay silent (behaviour 'silent'): it always speaks TLS",
    'http2-only': 'openssl s_server cannot serve HTTP/2 (http2): its -www page is HTTP/1.0',
    http2: 'openssl s_server cannot serve HTTP/2 (http2): its -www page is HTTP/1.0',
    'several-sni-names': (recipe) =>
      `openssl s_server serves one extra SNI name (-servername), the recipe has ${Object.keys(recipe.sni ?? {}).length}`,
    'sni-with-client-auth':
      "openssl s_server builds the SNI certificate's chain from -CAfile, which client authentication needs for its CAs",
    'sni-chain-out-of-order': (recipe) =>
      `openssl s_server can only build the SNI chain for ${Object.keys(recipe.sni ?? {})[0]} in issuance order, and this one is not`,
    'server-events': NO_EVENTS,
    'process-warning': "a Node server's process warning: this server is a child process",
  },
  async unavailable() {
    return findExecutable('openssl') ? undefined : 'openssl is not installed (apt-get install openssl)';
  },
  async start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer> {
    const plan = planSServer(scenario, recipe); // throws Unsupported before anything is written or started
    const command = findExecutable('openssl');
    if (!command) throw new Error('openssl s_server: openssl is not installed (apt-get install openssl)');
    const files = await writePemFiles({});
    try {
      const args = await plan(files);
      const port = await freePort();
      const child = await startChild({
        name: 'openssl s_server',
        command,
        args: ['s_server', '-accept', `127.0.0.1:${port}`, ...args],
        cwd: files.dir,
        env: { ...process.env, OPENSSL_CONF: join(files.dir, 'openssl.cnf') },
        ready: /^ACCEPT$/,
      });
      return childServer(port, child, files, NO_EVENTS);
    } catch (error) {
      await files.close();
      throw error;
    }
  },
};

/** Check the recipe and return the step that writes its files and gives the s_server arguments. */
function planSServer(scenario: Scenario, recipe: ServerRecipe): (files: PemFiles) => Promise<string[]> {
  assertSupported(opensslBackend, recipe);
  const [sniEntry] = Object.entries(recipe.sni ?? {});
  const settings = tlsSettings(recipe);
  const identity = serverIdentity(recipe);
  return async (files) => {
    const file = async (name: string, content: string | Buffer) => {
      const path = join(files.dir, name);
      await writeFile(path, content, { mode: 0o600 });
      return path;
    };
    await file('openssl.cnf', opensslConfig(settings));
    const { leaf, rest } = splitCertificates(identity.cert);
    // The certificate file is named after the scenario: the -www page echoes the command line (readStatusPage).
    const args = ['-cert', await file(`${scenario.id}.crt`, leaf), '-key', await file('server.key', identity.key)];
    if (rest) args.push('-cert_chain', await file('chain.pem', rest));
    if (identity.passphrase !== undefined) args.push('-pass', `file:${await file('passphrase', `${identity.passphrase}\n`)}`);
    args.push('-min_protocol', settings.minVersion, '-max_protocol', settings.maxVersion, '-cipher', settings.cipherList);
    if (settings.cipherSuites) args.push('-ciphersuites', settings.cipherSuites);
    if (recipe.dhparam) args.push('-dhparam', await file('dhparam.pem', recipe.dhparam));
    else args.push('-no_dhe');
    if (recipe.alpn) args.push('-alpn', recipe.alpn.join(','));
    let caFile: string | undefined;
    if (recipe.clientAuth) {
      const { trust, mode, crl = [] } = recipe.clientAuth;
      caFile = await file('client-ca.pem', [...trust.map((c) => c.certPem), ...crl].join(''));
      args.push(mode === 'require' ? '-Verify' : '-verify', '100');
      if (mode === 'require') args.push('-verify_return_error');
      if (crl.length > 0) args.push('-crl_check_all');
    }
    if (sniEntry) {
      const [name, chain] = sniEntry;
      const [sniLeaf, ...sniRest] = chain;
      if (!sniLeaf) throw new Error(`SNI name ${name} has an empty chain`);
      args.push('-servername', name, '-cert2', await file('sni.crt', sniLeaf.certPem), '-key2', await file('sni.key', sniLeaf.keyPem));
      // With no chain of its own, OpenSSL sends the chain it builds from the store (-CAfile): exactly these CAs.
      if (sniRest.length > 0) caFile = await file('sni-chain.pem', sniRest.map((c) => c.certPem).join(''));
    }
    // Without -CAfile, s_server would load the system's default CA locations: nothing but what is given here.
    args.push(...(caFile ? ['-CAfile', caFile] : ['-no-CAfile']), '-no-CApath', '-no-CAstore');
    args.push('-www');
    return args;
  };
}

/**
 * The success body of a `-www` status page, as the node backend writes it (successBody): `ok <scenario> <protocol>[
 * client=<CN>]\n`, or undefined when `page` is not a status page. The page names the negotiated protocol
 * (`Protocol  : TLSv1.3` in its session dump — not the `Cipher is` line, whose version is the cipher's minimum), the
 * client certificate (`Subject: CN=alice, …`, or `no client certificate available`), and echoes s_server's command
 * line, whose `-cert` file is named after the scenario.
 */
export function readStatusPage(page: string): string | undefined {
  const scenario = /(?:^| )-cert \S*\/([a-z0-9]+(?:-[a-z0-9]+)*)\.crt /m.exec(page)?.[1];
  const protocol = /^ {4}Protocol {2}: (\S+)$/m.exec(page)?.[1];
  const clientSection = page.split('\nClient certificate\n')[1];
  const noClient = page.includes('\nno client certificate available\n');
  if (!scenario || !protocol || (clientSection === undefined) === !noClient) return undefined;
  const subject = clientSection === undefined ? undefined : /^ {8}Subject: (.*)$/m.exec(clientSection)?.[1];
  const commonName = subject === undefined ? undefined : /(?:^|, )CN=([^,]*)/.exec(subject)?.[1];
  return successBody(scenario, protocol, commonName);
}
