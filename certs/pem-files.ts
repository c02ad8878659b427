import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files on disk for a tool that cannot take them in memory (a child process, curl, openssl). */
export interface PemFiles {
  /** The private (0700) directory holding the files. */
  dir: string;
  /** Absolute path of each file, by the name it was given. */
  paths: Record<string, string>;
  /** Remove the directory and everything in it. Safe to call twice. */
  close(): Promise<void>;
}

/** Directories not closed yet: removed when the process exits, so a run that never closes them leaves none behind. */
const open = new Set<string>();
let exitHookInstalled = false;

function removeAtExit(dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' allows only synchronous work.
    process.once('exit', () => {
      for (const left of open) rmSync(left, { recursive: true, force: true });
    });
  }
  open.add(dir);
}

/** Write `files` (name → PEM text) into a fresh 0700 temp dir; files are 0600. */
export async function writePemFiles(files: Record<string, string>): Promise<PemFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'tls-harness-')); // mkdtemp creates the directory 0700
  removeAtExit(dir);
  const paths: Record<string, string> = {};
  try {
    for (const [name, pem] of Object.entries(files)) {
      if (!/^[\w.-]+$/.test(name)) throw new Error(`unsafe PEM file name: ${name}`);
      paths[name] = join(dir, name);
      await writeFile(paths[name], pem, { mode: 0o600 });
    }
  } catch (error) {
    await remove(dir);
    throw error;
  }
  return { dir, paths, close: () => remove(dir) };
}

async function remove(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  open.delete(dir);
}
