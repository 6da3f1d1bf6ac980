import { describe, expect, it } from "vitest";

import { backoffDelay, resolveBackoff } from "./backoff.js";

describe("backoff", () => {
  it("defaults", () => {
    expect(resolveBackoff(undefined)).toEqual({
      initialDelayMs: 250,
      maxDelayMs: 30_000,
      multiplier: 2,
      jitter: 0.5,
      maxAttempts: Infinity,
    });
    expect(resolveBackoff(true)).toEqual(resolveBackoff({}));
    expect(resolveBackoff(false)).toBeUndefined();
  });

  it("grows exponentially up to the cap", () => {
    const b = resolveBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0 })!;
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(b, n))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it("stays finite for huge attempt numbers and a zero initial delay", () => {
    expect(backoffDelay(resolveBackoff({ jitter: 0 })!, 100_000)).toBe(30_000);
    expect(backoffDelay(resolveBackoff({ initialDelayMs: 0, maxDelayMs: 0, jitter: 0 })!, 100_000)).toBe(0);
  });

  it("takes at most the jitter fraction off", () => {
    const b = resolveBackoff({ initialDelayMs: 1_000, jitter: 0.25 })!;
    expect(backoffDelay(b, 1, () => 0)).toBe(1_000);
    expect(backoffDelay(b, 1, () => 0.5)).toBe(875);
    expect(backoffDelay(b, 1, () => 0.999_999)).toBe(750);
    const full = resolveBackoff({ initialDelayMs: 1_000, jitter: 1 })!;
    expect(backoffDelay(full, 1, () => 0.999_999)).toBe(0);
    for (let i = 0; i < 1_000; i++) {
      const d = backoffDelay(b, 3);
      expect(d).toBeGreaterThanOrEqual(3_000);
      expect(d).toBeLessThanOrEqual(4_000);
    }
  });

  it("rejects nonsense", () => {
    expect(() => resolveBackoff({ initialDelayMs: -1 })).toThrow(RangeError);
    expect(() => resolveBackoff({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
    expect(() => resolveBackoff({ multiplier: 0.5 })).toThrow(RangeError);
    expect(() => resolveBackoff({ jitter: 2 })).toThrow(RangeError);
    expect(() => resolveBackoff({ jitter: Number.NaN })).toThrow(RangeError);
    expect(() => resolveBackoff({ maxAttempts: -1 })).toThrow(RangeError);
  });
});
