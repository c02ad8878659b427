/** Where a command writes: the process's streams by default, buffers in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/**
 * A reader that stops early (`tls-harness catalog | head`) closes the pipe; the next write fails with EPIPE, which
 * Node raises as an unhandled 'error'. Like other command-line tools, end quietly then, with the status a shell gives
 * a process killed by SIGPIPE (128 + 13).
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(141);
    });
  }
}
