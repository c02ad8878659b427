import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writePemFiles } from '../../certs/index.ts';
import type { Credential } from '../../certs/index.ts';
import type { Scenario, ServerRecipe } from '../scenario.ts';
import { assertSupported, type RunningServer, type ServerBackend } from './backend.ts';
import { childServer, findExecutable, startChild } from './child.ts';
import { freePort } from './ports.ts';
import { opensslConfig, serverIdentity, tlsSettings, versionRange, type TlsSettings } from './recipe-settings.ts';

/**
 * nginx as a child process on 127.0.0.1, one per endpoint, from an nginx.conf generated for the scenario:
 * `daemon off`, `master_process off` (one process, running as the current user), pid and temp paths inside the
 * endpoint's private temp dir, errors on stderr, no access log, `keepalive_timeout 0` (every response closes its
 * connection, as the node backend's do). Every request gets `return 200 "ok <scenario> $ssl_protocol client=<CN>"`,
 * the node backend's success body exactly (successBody).
 *
 * nginx verifies a client certificate the way an HTTP application would: it lets the handshake complete whatever the
 * client sent, and answers the request with an HTTP 400 page — "No required SSL certificate was sent", "The SSL
 * certificate error" — where a Node server closes the connection and OpenSSL's s_server sends an alert.
 *
 * The translation (Node's meaning of the recipe; what nginx does with it):
 * - chain / raw → `ssl_certificate` (the whole chain, leaf first, as given) + `ssl_certificate_key`
 *   (+ `ssl_password_file`); material nginx cannot read makes it exit at start, and the start fails with its error.
 * - minVersion/maxVersion → `ssl_protocols` (Node's defaults TLSv1.2–TLSv1.3 when unset); ciphers → `ssl_ciphers`
 *   and `ssl_conf_command Ciphersuites`, split as Node splits them, Node's default list when unset; the same settings
 *   in the child's openssl.cnf (see opensslConfig). dhparam → `ssl_dhparam` (none: no DHE, as in Node).
 * - clientAuth `require` → `ssl_verify_client on`; `request` → `ssl_verify_client optional_no_ca`, which lets every
 *   client in and leaves the verdict to the application [Node: rejectUnauthorized false]; trust →
 *   `ssl_client_certificate`; crl → `ssl_crl` (nginx checks the whole chain, as Node does); `ssl_verify_depth 100`
 *   (OpenSSL's and Node's default; nginx's own is 1).
 * - sni → one `server` block per name, the recipe's chain in the `default_server`. nginx drops a trailing dot from
 *   the SNI name before it looks the name up (Node's SNICallback gets the name as sent).
 * - http2 with allowHTTP1 → `listen … http2` (ALPN h2 and http/1.1); behaviour `plain-http` → a listener without
 *   `ssl`, whose answer to a ClientHello is nginx's own "400 Bad Request" page in clear text.
 * Not expressible (Unsupported): an HTTP/2-only server (nginx always offers http/1.1 too), a server ALPN list
 * (nginx's list is its HTTP versions), behaviours `reset-on-client-hello` and `silent`. Per-connection server events: nginx's
 * error log does not name the client's port.
 */
export const nginxBackend: ServerBackend = {
  name: 'nginx',
  software: 'nginx',
  lacks: {
    'reset-on-client-hello':
      "nginx cannot reset a connection when the ClientHello arrives (behaviour 'reset-on-client-hello'): it answers " +
      'a ClientHello with a handshake or an alert, and a plain listener answers it with a 400 page',
    silent: "nginx cannot accept a connection and never answer (behaviour 'silent'): it times out and closes on its own",
    'http2-only': 'nginx cannot serve HTTP/2 only (http2 without allowHTTP1): its ALPN list always has http/1.1 too',
    // Node looks an SNI name up exactly (lowercased); nginx's server_name would read these as wildcards or regexes.
    'sni-name-pattern': (recipe) =>
      `nginx would read the SNI name ${Object.keys(recipe.sni ?? {}).find((name) => /[*~]|^\./.test(name))} as a wildcard or a regex, not as a name`,
    alpn: (recipe) => `nginx cannot take an ALPN list (alpn: ${(recipe.alpn ?? []).join(',')}): it offers the HTTP versions it serves`,
    'server-events': "nginx reports no per-connection events: its error log does not name the client's port",
    'process-warning': "a Node server's process warning: this server is a child process",
  },
  async unavailable() {
    return findExecutable('nginx') ? undefined : NGINX_NOT_INSTALLED;
  },
  async start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer> {
    assertSupported(nginxBackend, recipe);
    const command = findExecutable('nginx');
    if (!command) throw new Error(NGINX_NOT_INSTALLED);
    const files = await writePemFiles({});
    try {
      const port = await freePort();
      const launch = await prepareNginx(scenario, recipe, files.dir, port);
      const child = await startChild({
        name: 'nginx',
        command,
        args: launch.args,
        cwd: files.dir,
        env: { ...process.env, ...launch.env },
        ready: NGINX_READY,
      });
      return childServer(port, child, files, nginxBackend.lacks['server-events'] as string);
    } catch (error) {
      await files.close();
      throw error;
    }
  },
};

export const NGINX_NOT_INSTALLED = 'nginx is not installed (apt-get install nginx-light)';

/** nginx logs its OS status (…, getrlimit) once ngx_init_cycle has bound and is listening on every socket. */
export const NGINX_READY = /\[notice\] .*getrlimit\(RLIMIT_NOFILE\)/;

/** How to start nginx for one endpoint: its arguments (after the program) and its environment. */
export interface NginxLaunch {
  args: string[];
  env: Record<string, string>;
}

/**
 * Write the endpoint's nginx.conf, openssl.cnf and key material into `dir` and say how to start nginx on them. Every
 * path in them is absolute and inside `dir`, so nginx runs the same on this host and in a container that mounts `dir`
 * at the same path (the container backend).
 */
export async function prepareNginx(scenario: Scenario, recipe: ServerRecipe, dir: string, port: number): Promise<NginxLaunch> {
  const settings = tlsSettings(recipe);
  await mkdir(join(dir, 'tmp'), { mode: 0o700 }); // nginx creates the temp paths' last level only
  const file = async (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  const conf = await nginxConf(scenario, recipe, settings, port, dir, file);
  const opensslCnf = await file('openssl.cnf', opensslConfig(settings));
  return { args: ['-p', `${dir}/`, '-c', await file('nginx.conf', conf), '-e', 'stderr'], env: { OPENSSL_CONF: opensslCnf } };
}

/**
 * A double-quoted nginx string (the harness's paths, names and cipher strings). nginx has no escape for `$`, which
 * starts a variable even in quotes, so text with `$`, a double quote or a backslash is refused rather than mangled.
 */
function quote(text: string): string {
  if (/["\\$]/.test(text)) throw new Error(`nginx: cannot quote ${JSON.stringify(text)} in a configuration file`);
  return `"${text}"`;
}

type WriteFile = (name: string, content: string | Buffer) => Promise<string>;

async function nginxConf(
  scenario: Scenario,
  recipe: ServerRecipe,
  settings: TlsSettings,
  port: number,
  dir: string,
  file: WriteFile,
): Promise<string> {
  const http: string[] = [
    'access_log off;',
    'server_tokens off;',
    'keepalive_timeout 0;',
    'default_type text/plain;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${quote(join(dir, 'tmp', name))};`),
    // The client certificate's subject CN, as " client=<CN>" (the node backend's success body), or nothing.
    'map $ssl_client_s_dn $tls_harness_client {',
    '  "~(^|,)CN=(?<cn>[^,]+)" " client=$cn";',
    '  default "";',
    '}',
  ];
  const servers: string[] = [];
  if (recipe.behaviour === 'plain-http') {
    // A plain-HTTP listener: nginx answers a ClientHello (not an HTTP request line) with its own 400 page.
    servers.push(server(`listen 127.0.0.1:${port} default_server;`, 'return 400 "This port speaks plain HTTP, not HTTPS.\\n";'));
  } else {
    const identity = serverIdentity(recipe);
    http.push(
      `ssl_protocols ${versionRange(settings).join(' ')};`,
      `ssl_ciphers ${quote(settings.cipherList)};`,
      ...(settings.cipherSuites ? [`ssl_conf_command Ciphersuites ${quote(settings.cipherSuites)};`] : []),
      ...(recipe.dhparam ? [`ssl_dhparam ${quote(await file('dhparam.pem', recipe.dhparam))};`] : []),
      ...(identity.passphrase !== undefined ? [`ssl_password_file ${quote(await file('passphrase', `${identity.passphrase}\n`))};`] : []),
    );
    if (recipe.clientAuth) {
      const { trust, mode, crl = [] } = recipe.clientAuth;
      http.push(
        `ssl_client_certificate ${quote(await file('client-ca.pem', trust.map((c) => c.certPem).join('')))};`,
        `ssl_verify_client ${mode === 'require' ? 'on' : 'optional_no_ca'};`,
        'ssl_verify_depth 100;',
        ...(crl.length > 0 ? [`ssl_crl ${quote(await file('client-crl.pem', crl.join('')))};`] : []),
      );
    }
    const listen = (extra: string) => `listen 127.0.0.1:${port} ssl${recipe.http2 ? ' http2' : ''}${extra};`;
    const answer = `return 200 "ok ${scenario.id} $ssl_protocol$tls_harness_client\\n";`;
    const certificate = async (name: string, cert: string | Buffer, key: string | Buffer) => [
      `ssl_certificate ${quote(await file(`${name}.crt`, cert))};`,
      `ssl_certificate_key ${quote(await file(`${name}.key`, key))};`,
    ];
    servers.push(server(listen(' default_server'), answer, ...(await certificate('server', identity.cert, identity.key))));
    let index = 0;
    for (const [name, chain] of Object.entries(recipe.sni ?? {})) {
      const pem = chainPem(chain);
      index += 1;
      servers.push(server(listen(''), answer, `server_name ${quote(name)};`, ...(await certificate(`sni-${index}`, pem.cert, pem.key))));
    }
  }
  return [
    '# Written by tls-harness for one endpoint; removed with it.',
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${quote(join(dir, 'nginx.pid'))};`,
    'error_log stderr notice;',
    'events { worker_connections 256; }',
    'http {',
    ...[...http, ...servers].map((line) => `  ${line}`),
    '}',
    '',
  ].join('\n');
}

function server(listen: string, answer: string, ...directives: string[]): string {
  return ['server {', `  ${listen}`, ...directives.map((d) => `  ${d}`), `  location / { ${answer} }`, '}'].join('\n  ');
}

function chainPem(chain: Credential[]): { cert: string; key: string } {
  const [leaf] = chain;
  if (!leaf) throw new Error('an SNI chain needs at least a leaf certificate');
  return { cert: chain.map((c) => c.certPem).join(''), key: leaf.keyPem };
}
