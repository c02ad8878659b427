import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioObservations } from './observe.ts';

/** Everything one Node version showed for the whole catalog: one file per Node major in docs/observations/. */
export interface RunObservations {
  node: string;
  openssl: string;
  scenarios: ScenarioObservations[];
}

/** In the package, not the working directory: the CLI may run from anywhere. */
export const OBSERVATIONS_DIR = fileURLToPath(new URL('../../docs/observations/', import.meta.url));

export function observationsFile(nodeMajor: number, dir = OBSERVATIONS_DIR): string {
  return join(dir, `node${nodeMajor}.json`);
}

export function serialize(run: RunObservations): string {
  return `${JSON.stringify(run, null, 2)}\n`;
}

export async function writeObservations(run: RunObservations, dir = OBSERVATIONS_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = observationsFile(Number(run.node.replace(/^v/, '').split('.')[0]), dir);
  await writeFile(file, serialize(run));
  return file;
}

/** Every committed run, oldest Node major first. */
export async function readAllObservations(dir = OBSERVATIONS_DIR): Promise<RunObservations[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const majors = names
    .map((name) => /^node(\d+)\.json$/.exec(name)?.[1])
    .filter((major): major is string => major !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  return Promise.all(
    majors.map(async (major) => JSON.parse(await readFile(observationsFile(major, dir), 'utf8')) as RunObservations),
  );
}

/** The Node major a run (or any record with a `node` version) was observed on. */
export function nodeMajor(run: Pick<RunObservations, 'node'>): number {
  return Number(run.node.replace(/^v/, '').split('.')[0]);
}
