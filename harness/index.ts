/**
 * tls-harness: local TLS endpoints broken on purpose, Node clients that probe them, and the outcome model.
 *   import { startEndpoint } from 'tls-harness';
 *   const endpoint = await startEndpoint('expired-leaf');
 *   const outcome = await endpoint.probe('tls.connect'); // { ok: false, code: 'CERT_HAS_EXPIRED', … }
 *   await endpoint.close();
 */
export { startEndpoint, scenarioMaterial, HOST, DEFAULT_SERVERNAME, type Endpoint, type StartOptions } from './endpoint.ts';
export { SCENARIOS, findScenario, scenariosOf, UnknownScenario } from './scenarios/index.ts';
export {
  defineScenario,
  fixed,
  pems,
  presents,
  FAMILIES,
  type Family,
  type NodeCase,
  type Scenario,
  type ScenarioMaterial,
  type ServerRecipe,
  type ClientSetup,
  type Verdict,
} from './scenario.ts';
export * from './expect.ts';
export { FACTS, FACT_NAMES, NODE_LINES, RUNNING, factsOf, holds, lineOf, type FactName, type Runtime } from './facts.ts';
export { CLIENT_FEATURES, SERVER_FEATURES, clientNeeds, serverNeeds, type ClientFeature, type ServerFeature } from './features.ts';
export {
  PROBES,
  PROBE_NAMES,
  probeFetch,
  probeHttpsRequest,
  probeTlsConnect,
  type Probe,
  type ClientOptions,
  type Target,
} from './probes/index.ts';
export type { Outcome, Phase, ProbeName, ErrorSummary } from './outcome.ts';
export type { ServerEvent, ServerBackend, RunningServer, ServerSoftware } from './servers/backend.ts';
export { nodeBackend } from './servers/node.ts';
export { Unsupported, assertSupported, successBody, unsupportedBy } from './servers/backend.ts';
export { opensslBackend, readStatusPage } from './servers/openssl.ts';
export { nginxBackend } from './servers/nginx.ts';
export { containerBackend, containerClockDiffers } from './servers/container.ts';
export { ServerStartError } from './servers/child.ts';
export {
  SERVER_BACKENDS,
  SERVER_BACKEND_NAMES,
  SERVER_BACKEND_VARIABLE,
  backendFromEnvironment,
  findBackend,
  UnknownBackend,
  type ServerBackendName,
} from './servers/index.ts';
export { probeInChild, probeInChildWithStderr, type ChildEnvironment, type ChildProbe } from './probes/child.ts';
export { EXTERNAL_PROBES, EXTERNAL_PROBE_NAMES, externalClient, type ExternalProbe, type ExternalClient } from './probes/external/index.ts';
export type { ExternalOutcome, ExternalProbeName } from './outcome.ts';
