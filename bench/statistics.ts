// What the A/B benches say of their rounds: a median, and how far it can be trusted.

/** The middle value; of an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * An interval that holds the true median of what the rounds sample with at least `confidence`, whatever
 * their distribution: the k-th smallest and k-th largest round, k as large as the binomial distribution
 * allows (each round falls above the true median with probability 1/2). Null when there are too few rounds
 * for that confidence (fewer than 5 for 90%).
 */
export function medianInterval(values: number[], confidence = 0.9): [number, number] | null {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  let k = 0;
  let atMost = 0; // P(X <= j), X ~ Binomial(n, 1/2)
  let exactly = 2 ** -n; // P(X = j)
  for (let j = 0; j < n / 2; j++) {
    atMost += exactly;
    if (2 * atMost > 1 - confidence) break;
    k = j + 1;
    exactly = (exactly * (n - j)) / (j + 1);
  }
  return k === 0 ? null : [sorted[k - 1]!, sorted[n - k]!];
}

/** A median of ratios as the A/B benches print it: "0.95 (90% interval 0.91–1.02)". */
export function describeMedian(values: number[]): string {
  const interval = medianInterval(values);
  return `${median(values).toFixed(2)} (${interval ? `90% interval ${interval[0].toFixed(2)}–${interval[1].toFixed(2)}` : 'too few rounds for a 90% interval'})`;
}
