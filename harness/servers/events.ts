import type { ServerEvent } from './backend.ts';

type Waiter = { matches: (event: ServerEvent) => boolean; deliver: (event: ServerEvent) => void };

/**
 * The server events of one endpoint, with waiters, so a spec can await "what did the server see of *my*
 * connection" (matched by the client's port) without sleeping and without picking up another probe's event.
 */
export class EventQueue {
  private readonly events: ServerEvent[] = [];
  private readonly waiters: Waiter[] = [];

  push(event: ServerEvent): void {
    const index = this.waiters.findIndex((waiter) => waiter.matches(event));
    if (index >= 0) this.waiters.splice(index, 1)[0]?.deliver(event);
    else this.events.push(event);
  }

  /** The first event (oldest first) that matches, waiting up to `timeoutMs` for it; the event is consumed. */
  take(matches: (event: ServerEvent) => boolean, timeoutMs = 2000): Promise<ServerEvent> {
    const index = this.events.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0] as ServerEvent);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        deliver: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`the server reported no matching connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
