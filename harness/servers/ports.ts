import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/**
 * Ports for child servers (openssl s_server, nginx, nginx in a container), which bind a port they are given. The
 * harness checks that the port is free, then the child binds it, 10 ms to 0.5 s later. Two things can take the
 * port in that window:
 *
 * - The kernel hands it out again. Every `listen(0)` and `connect()`, in this process or any other, draws from the
 *   ephemeral range (ip_local_port_range), and a port found free by `listen(0)` and closed again is free to be drawn
 *   again. In one CI run, while dozens of servers started at once, nginx could not bind such a port: "bind() to
 *   127.0.0.1:41741 failed (98: Address already in use)".
 * - This process hands it out twice, to two children starting at once.
 *
 * So ports are drawn at random from a window the kernel never allocates from: the 10,000 ports just below the
 * ephemeral range. Each is checked by listening on it, and none is handed out twice by one process. Another process
 * binding the same explicit port in the same half second is still possible; nothing here can prevent that.
 */

const WINDOW = 10_000;
const MAX_DRAWS = 100;
const handedOut = new Set<number>();

/** A port on 127.0.0.1 that was free a moment ago, outside the ephemeral range, never handed out before here. */
export async function freePort(): Promise<number> {
  const { low, high } = childPortWindow();
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const port = randomInt(low, high + 1);
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the check, so that concurrent calls never test the same port
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port for a child server in ${low}–${high} after ${MAX_DRAWS} draws`);
}

/** The ports child servers get: below the kernel's ephemeral range, or above it when there is no room below. */
export function childPortWindow(): { low: number; high: number } {
  const ephemeral = ephemeralRange();
  const below = { low: Math.max(1024, ephemeral.low - WINDOW), high: ephemeral.low - 1 };
  const above = { low: ephemeral.high + 1, high: Math.min(65535, ephemeral.high + WINDOW) };
  const size = (range: { low: number; high: number }) => range.high - range.low + 1;
  const window = size(below) >= size(above) ? below : above;
  if (size(window) < 1000) throw new Error(`the ephemeral range ${ephemeral.low}–${ephemeral.high} leaves no room for child server ports`);
  return window;
}

/** Linux's ip_local_port_range; elsewhere the IANA dynamic range, which macOS and Windows use. */
export function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return { low, high };
  } catch {
    // not Linux
  }
  return { low: 49152, high: 65535 };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
