import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { failure, type Outcome } from '../outcome.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, tlsOptions, type ClientOptions, type Target } from './options.ts';

/** The parts of undici's Agent the probe uses. Typed locally: Node bundles undici but does not export its types. */
interface Dispatcher {
  close(): Promise<void>;
  destroy(): Promise<void>;
}
type AgentConstructor = new (options: { connect: Record<string, unknown> }) => Dispatcher;

let bundledAgent: Promise<AgentConstructor> | undefined;

/**
 * The `Agent` class of the undici that this Node bundles for its global `fetch`.
 * In application code you would write `new Agent({ connect: { ca } })` with `Agent` from the `undici` package;
 * the harness takes the running Node's own class instead, so that what is under test is exactly the global
 * fetch's code path and not whichever undici happens to be installed. The first fetch (of a `data:` URL, no network)
 * loads the bundled undici, which installs its global dispatcher, an instance of that class.
 */
export function fetchAgentClass(): Promise<AgentConstructor> {
  bundledAgent ??= (async () => {
    await (await fetch('data:,')).arrayBuffer();
    // undici 7 (Node 24) registers its Agent under `.2` as well; undici 8 (Node 26) keeps only a compatibility
    // wrapper under `.1`. Newest first.
    const dispatcher: unknown =
      Reflect.get(globalThis, Symbol.for('undici.globalDispatcher.2')) ?? Reflect.get(globalThis, Symbol.for('undici.globalDispatcher.1'));
    if (typeof dispatcher !== 'object' || dispatcher === null) {
      throw new Error(`this Node (${process.version}) exposes no global undici dispatcher`);
    }
    const Agent = dispatcher.constructor as AgentConstructor;
    await settleHttp1Parser(Agent);
    return Agent;
  })();
  return bundledAgent;
}

/**
 * undici compiles its HTTP/1 parser (llhttp, WebAssembly) asynchronously once it loads, and its first connection
 * awaits that compile before it attaches its socket listeners. A server that closes the connection inside that
 * window (a TLS 1.3 client-certificate refusal right after the handshake) goes unnoticed: the first fetch of the
 * process hangs until its signal aborts it, and destroying its dispatcher then waits forever for a 'close' that has
 * already happened (observed with undici 6.24.1 in Node 20.20.2, about one run in four). One plain HTTP/1.1
 * exchange over loopback settles the compile before any probe runs.
 */
async function settleHttp1Parser(Agent: AgentConstructor): Promise<void> {
  const server = net.createServer((socket) =>
    socket.once('data', () => socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n')),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const dispatcher = new Agent({ connect: {} });
  try {
    const { port } = server.address() as AddressInfo;
    await (await fetch(`http://127.0.0.1:${port}/`, { ...({ dispatcher } as RequestInit) })).arrayBuffer();
  } finally {
    await dispatcher.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The global `fetch`, trusting the client's CA through a dispatcher whose `connect` carries the TLS options. */
export async function probeFetch(target: Target, client: ClientOptions): Promise<Outcome> {
  const Agent = await fetchAgentClass();
  const { host: _host, port: _port, ...connect } = tlsOptions(target, client);
  const dispatcher = new Agent({ connect });
  const url = `https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}/`;
  let failed = false;
  try {
    const response = await fetch(url, {
      // `dispatcher` is undici's extension to RequestInit, which the DOM typings do not know.
      ...({ dispatcher } as RequestInit),
      signal: AbortSignal.timeout(client.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
    });
    const body = await response.text();
    return { probe: 'fetch', ok: true, phase: 'response', status: response.status, body };
  } catch (error) {
    failed = true;
    return failure('fetch', 'request', error);
  } finally {
    // After a failure, destroy: close() waits for in-flight work, and an aborted fetch (the probe's timeout) leaves
    // its connection attempt to undici's own 10 s connect timeout, which close() would sit out.
    await (failed ? dispatcher.destroy() : dispatcher.close());
  }
}
