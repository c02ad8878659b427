import { spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { writePemFiles } from '../../certs/index.ts';
import { once } from '../../certs/memo.ts';
import type { Scenario, ServerRecipe } from '../scenario.ts';
import type { RunningServer, ServerBackend } from './backend.ts';
import { assertSupported, Unsupported } from './backend.ts';
import { findExecutable, ServerStartError } from './child.ts';
import { freePort } from './ports.ts';
import { describeImage, importImage, type ContainerImage } from './container-image.ts';
import { nginxBackend, NGINX_NOT_INSTALLED, NGINX_READY, prepareNginx } from './nginx.ts';

/**
 * nginx in a container, one per endpoint, started with testcontainers' GenericContainer: the `nginx` backend's
 * configuration, files and readiness line, run from a locally built image (container-image.ts) instead of the host.
 * It serves exactly what the nginx backend serves, Unsupported recipes included, and behaves as nginx does.
 *
 * How it fits this machine and CI (no registry, traffic on 127.0.0.1 only):
 * - host networking: nginx binds 127.0.0.1:<port> in the host's network namespace, a port chosen free here;
 * - the endpoint's private temp dir is bind-mounted at the same path, so every path in nginx.conf holds as written;
 * - the image is imported from this host's nginx and its libraries (`docker import`), once per nginx build;
 * - testcontainers finds the daemon through DOCKER_HOST; its reaper (Ryuk) must be off, since it is an image from a
 *   registry: TESTCONTAINERS_RYUK_DISABLED=true. Cleanup is the backend's own: close() stops and removes the
 *   container, a failed start is removed by testcontainers, and any container still running when this process
 *   exits is removed with `docker rm -f` (every one is labelled `org.tls-harness.pid=<pid>`, so they can be found).
 *
 * testcontainers is imported only when this backend is used: 12.0.1 is pinned because 12.0.2–12.0.4 crash on import
 * under Node 20 and 12.1+ need Node ≥ 22.22.
 */
const NO_EVENTS = "nginx (container) reports no per-connection events: its error log does not name the client's port";

export const containerBackend: ServerBackend = {
  name: 'container',
  software: 'nginx',
  lacks: { ...nginxBackend.lacks, 'server-events': NO_EVENTS },
  refuses: () => containerClockDiffers(),
  unavailable: () => containerRuntime().then((runtime) => ('unavailable' in runtime ? runtime.unavailable : undefined)),
  async start(scenario: Scenario, recipe: ServerRecipe): Promise<RunningServer> {
    assertSupported(containerBackend, recipe); // Unsupported before Docker is asked anything
    const runtime = await containerRuntime();
    if ('unavailable' in runtime) throw new Error(`container backend: ${runtime.unavailable}`);
    const { GenericContainer, Wait } = runtime.testcontainers;
    const files = await writePemFiles({});
    try {
      const port = await freePort();
      const launch = await prepareNginx(scenario, recipe, files.dir, port);
      let output = '';
      const endpoint = `${process.pid}-${(endpointCount += 1)}`;
      const container = await new GenericContainer(runtime.image.tag)
        .withNetworkMode('host')
        .withBindMounts([{ source: files.dir, target: files.dir, mode: 'rw' }])
        .withEnvironment(launch.env)
        .withCommand([runtime.image.nginx, ...launch.args])
        .withLabels({ [PID_LABEL]: String(process.pid), [ENDPOINT_LABEL]: endpoint, 'org.tls-harness.scenario': scenario.id })
        .withLogConsumer((stream: Readable) =>
          stream.on('data', (chunk: Buffer | string) => (output = (output + chunk.toString()).slice(-16 * 1024))),
        )
        .withWaitStrategy(Wait.forLogMessage(NGINX_READY))
        .withStartupTimeout(15_000)
        .start()
        .catch((error: unknown) => {
          const why = error instanceof Error ? error.message : String(error);
          throw new ServerStartError('nginx (container)', `(${ENDPOINT_LABEL}=${endpoint}) was not ready: ${why}`, undefined, output);
        });
      const id = container.getId();
      running.add(id);
      let closed: Promise<void> | undefined;
      return {
        port,
        eventFor: () => Promise.reject(new Unsupported(NO_EVENTS)),
        close: () =>
          (closed ??= (async () => {
            try {
              await container.stop({ timeout: 2, remove: true });
            } finally {
              running.delete(id);
              await files.close();
            }
          })()),
      };
    } catch (error) {
      await files.close();
      throw error;
    }
  },
};

/**
 * Why a container's clock is not this process's, or undefined. libfaketime (LD_PRELOAD, as `faketime -f +1825d npm
 * test` runs it) moves the clock of this process and its children, not a container's: nginx would judge client
 * certificates, minted relative to the faked clock, by the real date.
 */
export function containerClockDiffers(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.FAKETIME === undefined
    ? undefined
    : `a container does not share this process's faked clock (libfaketime, FAKETIME=${env.FAKETIME})`;
}

/** The label every container of this process carries, with the process id as its value. */
export const PID_LABEL = 'org.tls-harness.pid';
/** The label that names one endpoint's container (`<pid>-<n>`); a failed start's error names it too. */
export const ENDPOINT_LABEL = 'org.tls-harness.endpoint';
let endpointCount = 0;

type Testcontainers = typeof import('testcontainers');
/** 12.0.1 is the version tested on every supported line; 12.0.2–12.0.4 crash on import under Node 20. */
const TESTCONTAINERS_MISSING = 'testcontainers is not installed: npm i -D testcontainers@12.0.1';
type Runtime = { testcontainers: Testcontainers; image: ContainerImage } | { unavailable: string };

const running = new Set<string>();

/**
 * testcontainers, a reachable Docker daemon and the image, or why not: checked once per process. The image is
 * imported here when this nginx has none yet (about a second).
 */
const containerRuntime = once(async (): Promise<Runtime> => {
  // testcontainers looks for the address at which containers' ports are reached, through the daemon's bridge network
  // (which this setup has none of) unless told. Containers here use the host's network, so it is this host.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  let testcontainers: Testcontainers;
  try {
    testcontainers = await import('testcontainers');
  } catch (error) {
    // An optional peer dependency of the package: only this backend needs it.
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes("'testcontainers'")) {
      return { unavailable: TESTCONTAINERS_MISSING };
    }
    return { unavailable: `testcontainers cannot be loaded on Node ${process.version}: ${(error as Error).message}` };
  }
  if (!findExecutable('docker')) return { unavailable: 'the docker CLI is not installed (apt-get install docker.io)' };
  const image = await describeImage();
  if (!image) return { unavailable: `${NGINX_NOT_INSTALLED}: the container image is built from this host's nginx` };
  let client: Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>;
  try {
    client = await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    const where = process.env.DOCKER_HOST ? `DOCKER_HOST=${process.env.DOCKER_HOST}` : 'DOCKER_HOST is unset';
    return { unavailable: `no Docker daemon is reachable (${where}): ${(error as Error).message.split('\n')[0]}` };
  }
  if (!(await client.image.exists(testcontainers.ImageName.fromString(image.tag)))) await importImage(image);
  process.once('exit', removeRunningContainers);
  return { testcontainers, image };
});

/** On exit, remove what close() did not (a crashed or interrupted run): synchronously, as 'exit' allows nothing else. */
function removeRunningContainers(): void {
  if (running.size === 0) return;
  spawnSync('docker', ['rm', '--force', ...running], { stdio: 'ignore', timeout: 10_000 });
}
