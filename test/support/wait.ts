import { afterAll, onTestFinished } from 'vitest';

/** Bounded waits: a test that waits says for what and how long, and fails with that when it runs out. */

export class TimedOut extends Error {
  override name = 'TimedOut';
}

/** The promise's outcome, or a TimedOut naming what was awaited after `ms`. */
export async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns something other than undefined, for at most `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new TimedOut(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Values pushed by a stream, read one at a time; a read fails when the stream ended or nothing came in time. */
export class Inbox<T> {
  #values: T[] = [];
  #waiting: Array<{ resolve(value: T): void; reject(error: unknown): void }> = [];
  #end: Error | undefined;

  constructor(private readonly what: string) {}

  push(value: T): void {
    const reader = this.#waiting.shift();
    if (reader) reader.resolve(value);
    else this.#values.push(value);
  }

  /** No more values: reads past the buffered ones fail with `reason`. */
  end(reason: Error): void {
    this.#end ??= reason;
    for (const reader of this.#waiting.splice(0)) reader.reject(reason);
  }

  next(ms = 5_000): Promise<T> {
    if (this.#values.length) return Promise.resolve(this.#values.shift()!);
    if (this.#end) return Promise.reject(this.#end);
    let reader!: { resolve(value: T): void; reject(error: unknown): void };
    const read = new Promise<T>((resolve, reject) => this.#waiting.push((reader = { resolve, reject })));
    return within(read, `the next ${this.what}`, ms).catch((error: unknown) => {
      // A reader that gave up must not swallow the next value.
      this.#waiting = this.#waiting.filter((waiting) => waiting !== reader);
      throw error;
    });
  }
}

/**
 * Publishes until `matches` sees the event arrive, then returns it. Needed because a subscription has
 * no "now listening" signal: graphql-ws acknowledges nothing per subscription and Redis subscribes
 * asynchronously, so the first event may be published before the subscriber listens. `publish` must be
 * idempotent; each attempt waits `interval` ms, `attempts` bound the whole wait.
 */
export async function publishUntilReceived<T>(
  publish: () => Promise<unknown>,
  inbox: Pick<Inbox<T>, 'next'>,
  matches: (value: T) => boolean,
  { attempts = 25, interval = 200 } = {},
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await publish();
    const deadline = Date.now() + interval;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let value: T;
      try {
        value = await inbox.next(left);
      } catch (error) {
        if (error instanceof TimedOut) break;
        throw error;
      }
      if (matches(value)) return value;
    }
  }
  throw new TimedOut(`No matching event arrived after ${attempts} publications ${interval} ms apart`);
}

/**
 * Runs `cleanup` when the current test ends, or when the file ends if called at its top level.
 * (vitest silently ignores an afterAll registered from inside a test.)
 */
export function releaseWhenDone(cleanup: () => unknown): void {
  const run = async () => {
    await cleanup();
  };
  try {
    onTestFinished(run);
  } catch {
    afterAll(run);
  }
}
