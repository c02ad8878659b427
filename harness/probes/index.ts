import type { Outcome, ProbeName } from '../outcome.ts';
import { fetchAgentClass, probeFetch } from './fetch.ts';
import { probeHttpsRequest } from './https-request.ts';
import type { ClientOptions, Target } from './options.ts';
import { probeTlsConnect } from './tls-connect.ts';

export type Probe = (target: Target, client: ClientOptions) => Promise<Outcome>;

/** Every Node client the harness drives, by the name the specs and the catalog use. */
export const PROBES: Record<ProbeName, Probe> = {
  'tls.connect': probeTlsConnect,
  'https.request': probeHttpsRequest,
  fetch: probeFetch,
};

export const PROBE_NAMES = Object.keys(PROBES) as ProbeName[];

export { probeFetch, probeHttpsRequest, probeTlsConnect, fetchAgentClass };
export type { ClientOptions, Target };
