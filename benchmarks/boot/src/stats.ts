/** Summary statistics for benchmark samples: median and spread (min/max), with the sample count. */
export interface Summary {
  runs: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs: sorted.length, median, min: sorted[0]!, max: sorted.at(-1)! };
}
