import { TLS_VERSIONS } from './support/runtime.ts';
import { useEndpoint } from './support/endpoints.ts';
import { itSucceedsForEveryProbe } from './support/expectations.ts';

describe('control: the healthy endpoint', () => {
  // What you see: nothing — every client completes the request.
  // Why it matters: each failure in this catalog differs from this endpoint in exactly one way, so a client that
  // fails here is misconfigured, and a failure elsewhere is the scenario's, not the harness's.
  const healthy = useEndpoint('healthy');
  for (const version of TLS_VERSIONS) {
    describe(`over ${version}`, () => itSucceedsForEveryProbe(healthy, { version }));
  }
});
