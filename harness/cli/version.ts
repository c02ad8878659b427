import { readFileSync } from 'node:fs';

/**
 * This package's version, from its package.json: two folders up from harness/cli/ in the repository, three from
 * dist/harness/cli/ in the installed package.
 */
export function packageVersion(): string {
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'tls-harness' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // not there (or not ours): try the next level
    }
  }
  throw new Error('tls-harness: cannot find its own package.json');
}
