// Summaries of measured samples: percentiles, medians and ratios.

/** The p-th percentile (0..100) of `values`, by nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  return percentile(values, 50);
}

/** n, p50, p90, p95, p99 and max of `values`. */
export function distribution(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

/** a / b, rounded to two decimals. */
export function ratio(a, b) {
  return Math.round((a / b) * 100) / 100;
}
