import { DEFAULT_SERVERNAME, HOST, scenarioMaterial } from '../endpoint.ts';
import { clientNeeds, serverNeeds } from '../features.ts';
import type { ClientOptions } from '../probes/options.ts';
import type { Scenario, ScenarioMaterial, ServerRecipe } from '../scenario.ts';
import { limboTestcase, type LimboFile, type LimboTestcase, type PeerName } from './model.ts';

/**
 * The catalog as an x509-limbo suite: every scenario that is a pure path-validation question, as one limbo test case.
 * That is decided from the scenario's declared data, not from a list: its server only presents a chain (a recipe
 * with nothing but `chain`), its client only trusts given CAs, names the server and may check CRLs (clientNeeds finds
 * nothing beyond `crl`, and `ca` is given: the default store is no path-validation input), it declares no extra
 * `needs`, and its server starts. Protocol versions, ciphers, ALPN, DH, SNI-picked chains, client certificates,
 * environments and callbacks leave a scenario out.
 */

/** The recipe fields that only say which chain the server presents. */
const CHAIN_ONLY: ReadonlySet<keyof ServerRecipe> = new Set(['chain']);

/** The client settings a limbo case can state: trust, the name (servername), CRLs; timeoutMs is the harness's own. */
const LIMBO_CLIENT_OPTIONS: ReadonlySet<keyof ClientOptions> = new Set(['ca', 'servername', 'crl', 'timeoutMs']);

/** Why a scenario is not a pure path-validation question, or undefined when it is. */
export function notPathValidation(scenario: Scenario, material: ScenarioMaterial): string | undefined {
  if (scenario.startup) return 'its server does not start';
  if (scenario.needs && Object.keys(scenario.needs).length > 0) return `it declares needs: ${Object.keys(scenario.needs).join(', ')}`;
  const { server, client } = material;
  const extraServer = (Object.keys(server) as (keyof ServerRecipe)[]).filter((key) => !CHAIN_ONLY.has(key) && server[key] !== undefined);
  if (extraServer.length > 0) return `its server sets ${extraServer.join(', ')}`;
  if (serverNeeds(server).length > 0) return `its server needs ${serverNeeds(server).join(', ')}`;
  if (server.chain.length === 0) return 'its server presents no certificate';
  const extraClient = (Object.keys(client) as (keyof ClientOptions)[]).filter(
    (key) => !LIMBO_CLIENT_OPTIONS.has(key) && client[key] !== undefined,
  );
  if (extraClient.length > 0) return `its client sets ${extraClient.join(', ')}`;
  const beyond = clientNeeds(client, server).filter((need) => need.feature !== 'crl');
  if (beyond.length > 0) return beyond.map((need) => need.says).join('; ');
  if (client.ca === undefined) return "its client trusts Node's default store";
  return undefined;
}

/** The limbo case id of a scenario: `tls-harness::<family>::<id>`. */
function limboId(scenario: Scenario): string {
  return `tls-harness::${scenario.family}::${scenario.id}`;
}

/** The limbo case for a scenario that is a path-validation question (notPathValidation says it is). */
export function limboCase(scenario: Scenario, material: ScenarioMaterial): LimboTestcase {
  const { server, client } = material;
  const [leaf, ...intermediates] = server.chain;
  if (!leaf) throw new Error(`${scenario.id}: no certificate to export`);
  // The name the scenario's client asks for: `localhost` unless set; set to undefined it connects by IP literal.
  const servername = 'servername' in client ? client.servername : DEFAULT_SERVERNAME;
  const peer: PeerName = servername === undefined ? { kind: 'IP', value: HOST } : { kind: 'DNS', value: servername };
  // No validation_time: the PKI is minted relative to the current clock, so the case holds now, as the catalog does.
  return limboTestcase({
    id: limboId(scenario),
    conflicts_with: [],
    features: [],
    importance: 'undetermined',
    description: `${scenario.title}. ${scenario.cause}`,
    validation_kind: 'SERVER',
    trusted_certs: client.ca ?? [],
    untrusted_intermediates: intermediates.map((credential) => credential.certPem),
    peer_certificate: leaf.certPem,
    peer_certificate_key: leaf.keyPem,
    expected_result: scenario.expect === 'accept' ? 'SUCCESS' : 'FAILURE',
    expected_peer_name: peer,
    crls: client.crl ?? [],
  });
}

/** The scenarios (in the order given) that are path-validation questions, as a limbo file. */
export async function exportLimbo(scenarios: readonly Scenario[]): Promise<LimboFile> {
  const testcases: LimboTestcase[] = [];
  for (const scenario of scenarios) {
    const material = await scenarioMaterial(scenario);
    if (notPathValidation(scenario, material) === undefined) testcases.push(limboCase(scenario, material));
  }
  return { version: 1, testcases };
}
