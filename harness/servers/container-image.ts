import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable } from './child.ts';

/**
 * The image the container backend runs: this host's own nginx binary and the shared libraries `ldd` names for it,
 * plus an /etc/passwd and /etc/group (nginx started as root looks up the user `nobody`), imported with
 * `docker import` — no registry, no Dockerfile, no base image. Its tag is a digest of those files, so a changed nginx
 * or OpenSSL on the host makes a new image, and an image already there is used as it is.
 */

const run = promisify(execFile);

export const IMAGE_REPOSITORY = 'tls-harness/nginx';

export interface ContainerImage {
  /** `tls-harness/nginx:<digest>` */
  tag: string;
  /** nginx's path, on this host and in the image alike. */
  nginx: string;
  /** Every file the image holds, as paths on this host (and in the image). */
  files: string[];
}

const USERS = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUPS = 'root:x:0:\nnogroup:x:65534:\n';

/** The libraries a dynamically linked program loads, from `ldd` (`libssl.so.3 => /lib/…`, `/lib64/ld-linux…`). */
export function parseLdd(output: string): string[] {
  const paths = output
    .split('\n')
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)\s*$/.exec(line.trim())?.[1])
    .filter((path): path is string => path !== undefined);
  return [...new Set(paths)];
}

/** What the image for this host's nginx holds and is tagged, without building it; undefined without nginx. */
export async function describeImage(): Promise<ContainerImage | undefined> {
  const nginx = findExecutable('nginx');
  if (!nginx) return undefined;
  const { stdout } = await run('ldd', [nginx]);
  const files = [nginx, ...parseLdd(stdout)];
  const digest = createHash('sha256');
  for (const file of files) digest.update(`${file}\0`).update(await readFile(file));
  digest.update(USERS).update(GROUPS);
  return { tag: `${IMAGE_REPOSITORY}:${digest.digest('hex').slice(0, 12)}`, nginx, files };
}

/**
 * Build the image with `docker import` from a root file system in a temp dir (removed afterwards). The docker CLI
 * talks to the daemon DOCKER_HOST names, as testcontainers does.
 */
export async function importImage(image: ContainerImage): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'tls-harness-image-'));
  try {
    const root = join(work, 'root');
    for (const file of image.files) {
      await mkdir(join(root, dirname(file)), { recursive: true });
      await copyFile(file, join(root, file)); // follows symlinks: /lib64/ld-linux-x86-64.so.2 becomes a file
    }
    await mkdir(join(root, 'etc'), { recursive: true });
    await mkdir(join(root, 'tmp'), { mode: 0o1777 });
    await writeFile(join(root, 'etc', 'passwd'), USERS);
    await writeFile(join(root, 'etc', 'group'), GROUPS);
    const archive = join(work, 'root.tar');
    await run('tar', ['-C', root, '-cf', archive, '.']);
    await run('docker', ['import', '--message', 'tls-harness: nginx for the container backend', archive, image.tag]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
