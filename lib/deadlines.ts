/**
 * Step timeouts on one timer. A timer per step cost Node ~9 µs of every pushed
 * event (a timer list made and scheduled in the native loop, then torn down
 * when the step finished: BENCHMARKS.md, "The Worker's share of a pushed
 * event"); here a step only records its deadline. The one timer is armed for
 * the earliest deadline, and when it fires it expires what is due and arms
 * itself for the next. A finished step is forgotten without touching the
 * timer, so a timer that fires early finds nothing due and re-arms. As with a
 * timer per step, only a pending deadline keeps the process alive.
 */
/** Whether a timer keeps the process alive: Node's and Bun's timers are objects, Deno's are ids. */
function keepAlive(timer: ReturnType<typeof setTimeout> | undefined, alive: boolean): void {
  if (timer === undefined) return;
  if (typeof timer === 'object') {
    if (alive) timer.ref();
    else timer.unref();
    return;
  }
  const deno = (globalThis as { Deno?: { refTimer(id: number): void; unrefTimer(id: number): void } }).Deno;
  if (alive) deno?.refTimer(timer);
  else deno?.unrefTimer(timer);
}

/** The longest delay a timer takes (2^31 - 1 ms); longer ones fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  at: number;
  expire: () => void;
}

export class Deadlines<K> {
  private readonly entries = new Map<K, Entry>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Infinity;

  /** `onError`: where a throwing expiry goes (the others still expire). */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Calls `expire` once `ms` have passed, unless `remove(key)` comes first. */
  add(key: K, ms: number, expire: () => void): void {
    const at = performance.now() + ms;
    this.entries.set(key, { at, expire });
    if (at < this.armedFor) this.arm(at);
    else if (this.entries.size === 1) keepAlive(this.timer, true);
  }

  /** Forgets `key`'s deadline. With none left the timer stays armed but no longer keeps the process alive. */
  remove(key: K): void {
    if (this.entries.delete(key) && this.entries.size === 0) keepAlive(this.timer, false);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets every deadline and stops the timer. */
  clear(): void {
    this.entries.clear();
    this.disarm();
  }

  private arm(at: number): void {
    this.disarm();
    this.armedFor = at;
    // Timers fire on whole milliseconds of the loop's clock: round up, never 0.
    // Beyond ~24.8 days a timer would fire at once: wait that long and look again.
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - performance.now())));
    this.timer = setTimeout(() => this.fire(), ms);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.disarm();
    const now = performance.now();
    const due: Entry[] = [];
    let next = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.at <= now) {
        due.push(entry);
        this.entries.delete(key);
      } else if (entry.at < next) {
        next = entry.at;
      }
    }
    if (next < Infinity) this.arm(next);
    for (const entry of due) {
      try {
        entry.expire();
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
