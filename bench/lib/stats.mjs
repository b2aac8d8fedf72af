// Exact percentiles of a set of latencies (µs in, ms out): the generator keeps every sample, so no histogram error.
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  if (p >= 100) return sorted[sorted.length - 1];
  const i = Math.ceil((p / 100) * sorted.length) - 1; // nearest-rank
  return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
}

export function summarize(latUs) {
  const sorted = Float64Array.from(latUs).sort();
  const ms = (v) => v / 1000;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: sorted.length ? ms(sum / sorted.length) : NaN,
    p50: ms(percentile(sorted, 50)),
    p90: ms(percentile(sorted, 90)),
    p99: ms(percentile(sorted, 99)),
    p999: ms(percentile(sorted, 99.9)),
    max: ms(percentile(sorted, 100)),
    curve: CURVE_PERCENTILES.map((p) => [p, +ms(percentile(sorted, p)).toFixed(4)]),
  };
}
