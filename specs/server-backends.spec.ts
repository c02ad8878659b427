import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import {
  SERVER_BACKENDS,
  SERVER_BACKEND_NAMES,
  ServerStartError,
  UnknownBackend,
  type ServerBackendName,
  containerBackend,
  containerClockDiffers,
  Unsupported,
  backendFromEnvironment,
  findScenario,
  scenarioMaterial,
  startEndpoint,
  type ServerRecipe,
} from '../harness/index.ts';
import { findExecutable, startChild } from '../harness/servers/child.ts';
import { ephemeralRange, freePort } from '../harness/servers/ports.ts';
import { OK } from '../harness/expect.ts';
import { TLS_VERSIONS, expectResult, itNeeds, itUnless, only } from './support/runner.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Run mocha with `args` in a child process, with `env` added; its exit code and what it printed. */
function mocha(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Why each backend cannot run here (its program is not installed, no Docker daemon), decided before the tests are. */
const unavailable = new Map(
  await Promise.all(SERVER_BACKEND_NAMES.map(async (name) => [name, await SERVER_BACKENDS[name].unavailable?.()] as const)),
);

/**
 * `it` for a backend: pending when the backend's program is not installed (failing under TLS_HARNESS_REQUIRE_TOOLS=1),
 * and, for the container, when the clock is faked (the container would not share it: containerClockDiffers).
 */
function itOnBackend(name: ServerBackendName, title: string, test: Mocha.AsyncFunc): void {
  const clock = name === 'container' ? containerClockDiffers() : undefined;
  if (clock !== undefined) itUnless(clock, title, test);
  else itNeeds(unavailable.get(name), title, test);
}

describe('server backends: TLS_HARNESS_SERVER=node|openssl|nginx|container', () => {
  describe('selecting the backend', () => {
    it('node when TLS_HARNESS_SERVER is unset or empty; each backend by its name', () => {
      expect(backendFromEnvironment({}).name).to.equal('node');
      expect(backendFromEnvironment({ TLS_HARNESS_SERVER: '' }).name).to.equal('node');
      for (const name of SERVER_BACKEND_NAMES) expect(backendFromEnvironment({ TLS_HARNESS_SERVER: name }).name).to.equal(name);
    });
    it('an unknown name is an error that lists the backends', () => {
      expect(() => backendFromEnvironment({ TLS_HARNESS_SERVER: 'apache' })).to.throw(
        UnknownBackend,
        "TLS_HARNESS_SERVER=apache: unknown server backend 'apache': choose one of node, openssl, nginx, container",
      );
    });
  });

  describe('a scenario a backend cannot express is pending, with the reason in its title (mocha JSON reporter)', () => {
    // specs/fixtures/unsupported-backend.fixture.ts: one backend that refuses every recipe, one that serves but lacks
    // server events; tests that need what they cannot do are registered pending when they are defined.
    let report: { stats: { passes: number; pending: number; failures: number }; pending: { fullTitle: string }[] };
    before(async function () {
      this.timeout(20_000);
      const { code, stdout, stderr } = await mocha(['--reporter', 'json', 'specs/fixtures/unsupported-backend.fixture.ts']);
      expect(code, stderr).to.equal(0);
      report = JSON.parse(stdout) as typeof report;
    });
    it('the test that uses a served endpoint passes; nothing fails', () => {
      expect({ passes: report.stats.passes, failures: report.stats.failures }).to.deep.equal({ passes: 1, failures: 0 });
    });
    it('every test that needs what the backend cannot do is reported pending, titled with the reason', () => {
      expect(report.pending.map((test) => test.fullTitle)).to.deep.equal([
        'fixture uses the unsupported endpoint — pending: healthy on refusing: it cannot serve this (fixture)',
        "fixture asks for the server's view — pending: the server's view on mute: it reports no events (fixture)",
      ]);
    });
    it('TLS_HARNESS_SERVER with an unknown name stops the run before any test, with that error', async function () {
      this.timeout(20_000);
      const { code, stderr } = await mocha(['--reporter', 'dot', 'specs/control.spec.ts'], { TLS_HARNESS_SERVER: 'apache' });
      expect(code).to.not.equal(0);
      expect(stderr).to.include(
        "UnknownBackend: TLS_HARNESS_SERVER=apache: unknown server backend 'apache': choose one of node, openssl, nginx, container",
      );
    });
  });

  describe('what the child-process backends refuse to express (Unsupported, before any process starts)', () => {
    const cases: { backend: 'openssl' | 'nginx'; change: Partial<ServerRecipe>; reason: RegExp }[] = [
      { backend: 'openssl', change: { behaviour: 'plain-http' }, reason: /^openssl s_server cannot answer in plain HTTP/ },
      { backend: 'openssl', change: { http2: { allowHTTP1: true } }, reason: /^openssl s_server cannot serve HTTP\/2/ },
      {
        backend: 'openssl',
        change: { sni: { 'a.test': [], 'b.test': [] } },
        reason: /serves one extra SNI name \(-servername\), the recipe has 2$/,
      },
      { backend: 'nginx', change: { behaviour: 'silent' }, reason: /^nginx cannot accept a connection and never answer/ },
      { backend: 'nginx', change: { http2: { allowHTTP1: false } }, reason: /^nginx cannot serve HTTP\/2 only/ },
      { backend: 'nginx', change: { alpn: ['h2'] }, reason: /^nginx cannot take an ALPN list \(alpn: h2\)/ },
    ];
    for (const { backend, change, reason } of cases) {
      it(`${backend}: ${JSON.stringify(change)} → Unsupported ${reason}`, async () => {
        const scenario = findScenario('healthy');
        const { server } = await scenarioMaterial(scenario);
        const error: unknown = await SERVER_BACKENDS[backend].start(scenario, { ...server, ...change }).then(
          async (running) => {
            await running.close();
            return undefined;
          },
          (thrown: unknown) => thrown,
        );
        expect(error).to.be.instanceOf(Unsupported);
        expect((error as Error).message).to.match(reason);
      });
    }
  });

  for (const name of ['openssl', 'nginx', 'container'] as const) {
    describe(`${name}: ${name === 'container' ? 'nginx in a container (testcontainers, host network)' : 'a child process'} on 127.0.0.1`, () => {
      for (const version of TLS_VERSIONS) {
        itOnBackend(name, `serves healthy over ${version}: the success line (scenario, protocol), and is gone after close()`, async () => {
          const endpoint = await startEndpoint('healthy', { backend: SERVER_BACKENDS[name] });
          try {
            expectResult(await endpoint.probe('tls.connect', only(version)), OK, endpoint, version);
          } finally {
            await endpoint.close();
          }
          const refused = await new Promise<string | undefined>((resolve) => {
            const socket = net.connect(endpoint.port, '127.0.0.1');
            socket.once('connect', () => {
              socket.destroy();
              resolve(undefined);
            });
            socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
          });
          expect(refused, `port ${endpoint.port} after close()`).to.equal('ECONNREFUSED');
        });
      }
    });
  }

  describe('container: nothing is left behind', () => {
    const run = promisify(execFile);
    /** The pids (label org.tls-harness.pid) of the tls-harness containers the daemon has, running or not. */
    const containerPids = async (label = 'org.tls-harness.pid'): Promise<string[]> => {
      const { stdout } = await run('docker', ['ps', '--all', '--filter', `label=${label}`, '--format', '{{.Label "org.tls-harness.pid"}}']);
      return stdout.split('\n').filter((line) => line !== '');
    };

    itOnBackend(
      'container',
      "a server that exits at start-up: ServerStartError with nginx's words, and its container is removed",
      async () => {
        const error: unknown = await startEndpoint('key-certificate-mismatch', { backend: containerBackend }).then(
          async (endpoint) => endpoint.close(),
          (thrown: unknown) => thrown,
        );
        expect(error).to.be.instanceOf(ServerStartError);
        const { why, output } = error as ServerStartError;
        // The error names the container's endpoint label: exactly that container must be gone (others of this process,
        // started ahead for later specs, may be running).
        const label = /^\((org\.tls-harness\.endpoint=\d+-\d+)\) was not ready: Log stream ended and message /.exec(why)?.[1];
        expect(label, why).to.be.a('string');
        expect(output).to.match(
          // nginx is the container's first process: pid 1
          /^\S+ \S+ \[emerg\] 1#1: SSL_CTX_use_PrivateKey\("\/\S+\/server\.key"\) failed \(SSL: error:05800074:x509 certificate routines::key values mismatch\)$/m,
        );
        expect(await containerPids(label)).to.deep.equal([]);
      },
    );

    itOnBackend(
      'container',
      'a run with a failing spec and an endpoint it never closed leaves no container and no temp dir (close in after, docker rm and rm at exit)',
      async function () {
        this.timeout(60_000);
        // The child's temp dirs go to a directory of its own, so what it leaves is told apart from this run's.
        const tmp = await mkdtemp(join(tmpdir(), 'fixture-tmp-'));
        try {
          const { code, stdout, stderr } = await mocha(['--reporter', 'json', 'specs/fixtures/container-cleanup.fixture.ts'], {
            TLS_HARNESS_REQUIRE_TOOLS: '',
            TMPDIR: tmp,
          });
          const pid = /^pid=(\d+)$/m.exec(stdout)?.[1];
          expect(pid, stdout + stderr).to.be.a('string');
          const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { stats: { passes: number; failures: number } };
          expect({ code, passes: report.stats.passes, failures: report.stats.failures }).to.deep.equal({ code: 1, passes: 1, failures: 1 });
          expect(await containerPids()).to.not.include(pid);
          expect((await readdir(tmp)).filter((name) => name.startsWith('tls-harness-'))).to.deep.equal([]);
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      },
    );

    const cannotTell = findExecutable('docker')
      ? findExecutable('nginx', '/usr/sbin/nginx')
        ? undefined
        : 'nginx is not installed'
      : 'the docker CLI is not installed';
    itNeeds(
      cannotTell,
      'without a reachable Docker daemon: unavailable, naming DOCKER_HOST (its specs are then pending with that reason)',
      async function (this: Mocha.Context) {
        this.timeout(20_000);
        const socket = join(REPO, '.cache', 'no-such-docker.sock');
        const { stdout } = await run(
          process.execPath,
          [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            "import { containerBackend } from './harness/index.ts'; console.log(await containerBackend.unavailable());",
          ],
          { cwd: REPO, env: { ...process.env, DOCKER_HOST: `unix://${socket}` } },
        );
        expect(stdout).to.match(new RegExp(`^no Docker daemon is reachable \\(DOCKER_HOST=unix://${socket.replace(/[.]/g, '\\.')}\\): `));
      },
    );
  });

  describe('the ports child servers get', () => {
    // A child binds the port it is given a moment after the harness found it free. The kernel never hands out a
    // port outside its ephemeral range on its own, so neither a listen(0) nor a connect() can take it meanwhile.
    it("lie outside the kernel's ephemeral range and are never handed out twice, even when asked for at once", async () => {
      const ephemeral = ephemeralRange();
      const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
      expect(new Set(ports).size).to.equal(ports.length);
      const inEphemeralRange = ports.filter((port) => port >= ephemeral.low && port <= ephemeral.high);
      expect(inEphemeralRange, `ephemeral range ${ephemeral.low}–${ephemeral.high}`).to.deep.equal([]);
    });

    it('are free to listen on when handed out', async () => {
      const port = await freePort();
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  });

  describe('starting a child server', () =>
    itOnBackend('openssl', 'a child server that cannot bind its port fails loudly with its own words (no retry)', async () => {
      const occupied = net.createServer();
      await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', () => resolve()));
      const { port } = occupied.address() as net.AddressInfo;
      try {
        const command = findExecutable('openssl') ?? 'openssl';
        const error: unknown = await startChild({
          name: 'openssl s_server',
          command,
          args: ['s_server', '-accept', `127.0.0.1:${port}`, '-nocert', '-www'],
          ready: /^ACCEPT$/,
        }).then(
          async (child) => {
            await child.close();
            return undefined;
          },
          (thrown: unknown) => thrown,
        );
        expect(error).to.be.instanceOf(ServerStartError);
        const { why, exitCode, output } = error as ServerStartError;
        // s_server reports the failed bind and exits with status 0: only "exited before it was ready" tells.
        expect({ why, exitCode }).to.deep.equal({ why: 'exited (code 0) before it was ready', exitCode: 0 });
        expect(output).to.match(/Address already in use/);
      } finally {
        await new Promise<void>((resolve) => occupied.close(() => resolve()));
      }
    }));
});
