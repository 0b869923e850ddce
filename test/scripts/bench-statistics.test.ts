import { describe, expect, test } from 'vitest';
import { median, medianInterval } from '../../bench/statistics.js';

// The A/B benches judge a change by the median of their per-round ratios, and say how far to trust it.

describe("a median's interval", () => {
  const rounds = (n: number) => Array.from({ length: n }, (_, index) => n - index); // n..1, out of order on purpose

  test('is the k-th smallest and k-th largest round, k as the binomial distribution allows for 90%', () => {
    expect(medianInterval(rounds(4))).toBeNull();
    expect(medianInterval(rounds(5))).toEqual([1, 5]);
    expect(medianInterval(rounds(10))).toEqual([2, 9]);
    expect(medianInterval(rounds(16))).toEqual([5, 12]);
    expect(median(rounds(10))).toBe(5.5);
  });

  test('holds the true median at least 90% of the time, whatever the distribution', () => {
    let seed = 42;
    // mulberry32: a small seeded generator, so the test sees the same rounds every time.
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const skewed = () => -Math.log(1 - random()); // exponential: its median is ln 2
    for (const n of [5, 8, 10, 16]) {
      let held = 0;
      for (let trial = 0; trial < 2000; trial++) {
        const [low, high] = medianInterval(Array.from({ length: n }, skewed))!;
        if (low <= Math.LN2 && Math.LN2 <= high) held++;
      }
      expect(held / 2000).toBeGreaterThanOrEqual(0.9);
    }
  });
});
