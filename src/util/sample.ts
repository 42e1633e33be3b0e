/**
 * Distinct random picks, as Redis's SRANDMEMBER / HRANDFIELD pick a count of distinct
 * elements: a partial Fisher-Yates when the count is a large share, rejection sampling
 * otherwise.
 */

/** `k` distinct random indexes below `n` (k <= n), in random order. */
export function sampleIndexes(n: number, k: number): number[] {
  if (k * 3 > n) {
    const idx = new Array<number>(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(Math.random() * (n - i));
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    idx.length = k;
    return idx;
  }
  const seen = new Set<number>();
  while (seen.size < k) seen.add(Math.floor(Math.random() * n));
  return [...seen];
}
