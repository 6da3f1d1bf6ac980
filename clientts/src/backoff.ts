/**
 * How the client reconnects after losing its connection (or failing to
 * open it): the n-th consecutive attempt waits
 * `min(maxDelayMs, initialDelayMs * multiplier^(n-1))`, of which a random
 * fraction up to `jitter` is taken off so that many clients do not come
 * back at the same instant.
 */
export interface ReconnectOptions {
  /** The wait before the first retry. Defaults to 250 ms. */
  initialDelayMs?: number | undefined;
  /** The longest wait between attempts. Defaults to 30 000 ms. */
  maxDelayMs?: number | undefined;
  /** The growth of the wait from one attempt to the next. Defaults to 2. */
  multiplier?: number | undefined;
  /**
   * The largest fraction of the wait taken off at random, from 0 (no
   * jitter) to 1 (a wait anywhere between 0 and the full delay). Defaults to 0.5.
   */
  jitter?: number | undefined;
  /**
   * How many consecutive attempts to make before giving up; the client
   * then stays disconnected until the next call. Defaults to Infinity.
   */
  maxAttempts?: number | undefined;
}

/** @private Internal code, does not follow semantic versioning. */
export type Backoff = { readonly [K in keyof ReconnectOptions]-?: number };

/** @private Internal code, does not follow semantic versioning. */
export function resolveBackoff(opts: ReconnectOptions | boolean | undefined): Backoff | undefined {
  if (opts === false) {
    return undefined;
  }
  const o = opts === true || opts === undefined ? {} : opts;
  const b: Backoff = {
    initialDelayMs: o.initialDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 30_000,
    multiplier: o.multiplier ?? 2,
    jitter: o.jitter ?? 0.5,
    maxAttempts: o.maxAttempts ?? Infinity,
  };
  if (!(b.initialDelayMs >= 0) || !(b.maxDelayMs >= b.initialDelayMs)) {
    throw new RangeError("reconnect: want 0 <= initialDelayMs <= maxDelayMs");
  }
  if (!(b.multiplier >= 1)) {
    throw new RangeError("reconnect: multiplier must be at least 1");
  }
  if (!(b.jitter >= 0 && b.jitter <= 1)) {
    throw new RangeError("reconnect: jitter must be between 0 and 1");
  }
  if (!(b.maxAttempts >= 0)) {
    throw new RangeError("reconnect: maxAttempts must not be negative");
  }
  return b;
}

/**
 * backoffDelay returns the wait before attempt number `attempt` (1 for
 * the first retry). `random` returns a number in [0, 1).
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function backoffDelay(b: Backoff, attempt: number, random: () => number = Math.random): number {
  const growth = b.multiplier ** Math.max(0, attempt - 1);
  // initialDelayMs 0 with an overflowing growth would be 0 * Infinity.
  const base = b.initialDelayMs === 0 ? 0 : Math.min(b.maxDelayMs, b.initialDelayMs * growth);
  return Math.round(base * (1 - b.jitter * random()));
}
