import { startEndpoint, type Endpoint, type StartOptions } from '../../harness/index.ts';

/**
 * Start the scenario's endpoint before the enclosing `describe` and close it after, also when a spec fails.
 * Returns an accessor, because the endpoint exists only once the `before` hook has run.
 */
export function useEndpoint(id: string, options: StartOptions = {}): () => Endpoint {
  let endpoint: Endpoint | undefined;
  before(async () => {
    endpoint = await startEndpoint(id, options);
  });
  after(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });
  return () => {
    if (!endpoint) throw new Error(`endpoint ${id} is not running (used outside its describe?)`);
    return endpoint;
  };
}
