// Entry point of the probe child process: reads ChildProbe[] as JSON on stdin, prints Outcome[] as JSON on stdout.
import { text } from 'node:stream/consumers';
import { PROBES } from './index.ts';
import type { ChildProbe } from './child.ts';

const probes = JSON.parse(await text(process.stdin)) as ChildProbe[];
const outcomes = [];
for (const { probe, target, options } of probes) {
  const { error: _error, ...serializable } = await PROBES[probe](target, options);
  outcomes.push(serializable);
}
process.stdout.write(JSON.stringify(outcomes));
