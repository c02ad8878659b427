import { clientNeeds, type ClientFeature } from '../features.ts';
import type { ScenarioMaterial } from '../scenario.ts';
import type { Scenario } from '../scenario.ts';

/**
 * A stub (the trytls convention of `check`, and a user reading `serve`'s list) is given a host, a port, a CA bundle, a
 * timeout and an environment. Every client feature is a setting it lacks, except its environment and the spelling of
 * the host name, which stubCannotBeGraded judges on its own. A feature added later is lacked until said otherwise.
 */
const NOT_A_MISSING_SETTING: ReadonlySet<ClientFeature> = new Set<ClientFeature>(['environment', 'unicode-host', 'trailing-dot-sni']);
const STUB_GETS = 'a stub gets only host, port and CA bundle';

/** The client settings the scenario's verdict assumes that a stub is not given, in words (empty: a stub can be graded). */
export function settingsBeyondTrust(scenario: Scenario, material: ScenarioMaterial): string[] {
  const declared = Object.entries(scenario.needs ?? {}).map(([feature, says]) => ({
    feature: feature as ClientFeature,
    says: says as string,
  }));
  return [...clientNeeds(material.client, material.server), ...declared]
    .filter((need) => !NOT_A_MISSING_SETTING.has(need.feature))
    .map((need) => need.says);
}

/** Why a stub's verdict on this scenario would not mean what the scenario's verdict means, or undefined. */
export function stubCannotBeGraded(scenario: Scenario, material: ScenarioMaterial): string | undefined {
  const settings = settingsBeyondTrust(scenario, material);
  if (settings.length > 0) return `${settings.join('; ')}: ${STUB_GETS}`;
  // The host name as the stub gets it: whether the verdict holds depends on how the client spells it on the wire.
  return clientNeeds(material.client, material.server).find(
    (need) => need.feature === 'unicode-host' || need.feature === 'trailing-dot-sni',
  )?.says;
}
