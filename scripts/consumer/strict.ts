// Type-checked by scripts/test-consumer.ts as a user's strict TypeScript project would (tsconfig.json next to it):
// every public entry point, used the way the README shows.
import { SCENARIOS, startEndpoint, type Endpoint, type Outcome, type Scenario } from 'tls-harness';
import { certificate, type Credential } from 'tls-harness/certs';
import { RUNNING, resolveScenario, type ResolvedScenario } from 'tls-harness/catalog';

const endpoint: Endpoint = await startEndpoint('expired-leaf');
const outcome: Outcome = await endpoint.probe('fetch');
const code: string | undefined = outcome.ok ? undefined : (outcome.cause?.code ?? outcome.code);
await endpoint.close();

const first: Scenario | undefined = SCENARIOS[0];
const resolved: ResolvedScenario | undefined = first && resolveScenario(first, RUNNING);
const leaf: Credential = await certificate('consumer.test').dns('consumer.test').serverAuth().build();
console.log(code, resolved?.cases.length, leaf.certPem.length);
