import type { Family, Scenario } from '../scenario.ts';
import { chainRuleScenarios } from './chain-rules.ts';
import { clientCertificateScenarios } from './client-certificates.ts';
import { clientConfigurationScenarios } from './client-configuration.ts';
import { controlScenarios } from './control.ts';
import { cryptoStrengthScenarios } from './crypto-strength.ts';
import { hostnameScenarios } from './hostname.ts';
import { protocolScenarios } from './protocol.ts';
import { revocationScenarios } from './revocation.ts';
import { serverConfigurationScenarios } from './server-configuration.ts';
import { trustScenarios } from './trust.ts';
import { validityScenarios } from './validity.ts';

/** The catalog: every scenario, in family order. */
export const SCENARIOS: readonly Scenario[] = [
  ...controlScenarios,
  ...validityScenarios,
  ...hostnameScenarios,
  ...trustScenarios,
  ...chainRuleScenarios,
  ...cryptoStrengthScenarios,
  ...revocationScenarios,
  ...clientCertificateScenarios,
  ...protocolScenarios,
  ...clientConfigurationScenarios,
  ...serverConfigurationScenarios,
];

const byId = new Map<string, Scenario>();
for (const scenario of SCENARIOS) {
  if (byId.has(scenario.id)) throw new Error(`duplicate scenario id: ${scenario.id}`);
  byId.set(scenario.id, scenario);
}

export class UnknownScenario extends Error {
  override name = 'UnknownScenario';
}

export function findScenario(id: string): Scenario {
  const scenario = byId.get(id);
  if (!scenario) throw new UnknownScenario(`unknown scenario: ${id} (see \`tls-harness catalog\`)`);
  return scenario;
}

export function scenariosOf(family: Family): Scenario[] {
  return SCENARIOS.filter((s) => s.family === family);
}
