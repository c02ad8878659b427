import { failure, type Outcome } from '../outcome.ts';
import { DEFAULT_PROBE_TIMEOUT_MS, tlsOptions, type ClientOptions, type Target } from './options.ts';

/** The parts of undici's Agent the probe uses. Typed locally: Node bundles undici but does not export its types. */
interface Dispatcher {
  close(): Promise<void>;
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
    const dispatcher: unknown = Reflect.get(globalThis, Symbol.for('undici.globalDispatcher.1'));
    if (typeof dispatcher !== 'object' || dispatcher === null) {
      throw new Error(`this Node (${process.version}) exposes no global undici dispatcher`);
    }
    return dispatcher.constructor as AgentConstructor;
  })();
  return bundledAgent;
}

/** The global `fetch`, trusting the client's CA through a dispatcher whose `connect` carries the TLS options. */
export async function probeFetch(target: Target, client: ClientOptions): Promise<Outcome> {
  const Agent = await fetchAgentClass();
  const { host: _host, port: _port, ...connect } = tlsOptions(target, client);
  const dispatcher = new Agent({ connect });
  const url = `https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}/`;
  try {
    const response = await fetch(url, {
      // `dispatcher` is undici's extension to RequestInit, which the DOM typings do not know.
      ...({ dispatcher } as RequestInit),
      signal: AbortSignal.timeout(client.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS),
    });
    const body = await response.text();
    return { probe: 'fetch', ok: true, phase: 'response', status: response.status, body };
  } catch (error) {
    return failure('fetch', 'request', error);
  } finally {
    await dispatcher.close();
  }
}
