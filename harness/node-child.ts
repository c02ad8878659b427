import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The arguments that run a module of this package in a fresh Node process (`spawn(process.execPath, args)`).
 * In the repository the harness runs as TypeScript, so the child gets tsx's loader; in the installed package it is
 * built JavaScript and runs as it is (tsx is a development dependency, absent from a user's tree).
 *
 * `callerUrl` is the caller's `import.meta.url`, `modulePath` the module's path relative to it without an extension:
 * the caller's own extension decides which file is meant, since a build rewrites import specifiers, not URLs.
 */
export function nodeModuleArgs(callerUrl: string, modulePath: string): string[] {
  const typescript = callerUrl.endsWith('.ts');
  const file = fileURLToPath(new URL(`${modulePath}${typescript ? '.ts' : '.js'}`, callerUrl));
  return typescript ? ['--import', tsxLoader(), file] : [file];
}

// tsx's loader ('tsx' resolves to dist/loader.mjs), by absolute URL so the child does not depend on its cwd.
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}
