import { defineScenario } from '../scenario.ts';

export const revocationScenarios = [
  // scenarios of this family go here (see control.ts for the shape)
].map(defineScenario);
