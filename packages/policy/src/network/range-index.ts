/**
 * CIDR lookup by sorted ranges: every block is a range [start, end] of addresses (one 32-bit word
 * per IPv4 address, four per IPv6); the range ends cut the address space into intervals, and each
 * interval keeps the rules of all blocks covering it. A lookup is one binary search — no hashing
 * and no per-prefix-length probing.
 */
import type { Cidr } from "./ip.js";
import { maskBits } from "./ip.js";
import type { NetworkRule } from "./rule.js";

type Words = readonly number[];

function compare(a: Words, b: Words): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** `w + 1` as a big-endian multi-word number; null on overflow past all-ones. */
function increment(w: Words): number[] | null {
  const out = [...w];
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xffffffff) {
      out[i] = out[i]! + 1;
      return out;
    }
    out[i] = 0;
  }
  return null;
}

export class RangeIndex {
  /** Interval starts, `width` words each, ascending. */
  private readonly starts: Uint32Array;
  private readonly lists: (NetworkRule[] | null)[];
  readonly size: number;

  constructor(
    private readonly width: 1 | 4,
    rules: readonly NetworkRule[],
  ) {
    const blocks = rules.map((r) => {
      const c = r.cidr as Cidr;
      const end = c.words.map((w, i) => (w | ~maskBits(c.prefix - i * 32)) >>> 0);
      return { rule: r, start: c.words, after: increment(end) };
    });
    const points: Words[] = [];
    for (const b of blocks) {
      points.push(b.start);
      if (b.after) points.push(b.after);
    }
    points.sort(compare);
    const unique = points.filter((p, i) => i === 0 || compare(p, points[i - 1]!) !== 0);
    this.size = unique.length;
    this.starts = new Uint32Array(unique.length * width);
    unique.forEach((p, i) => this.starts.set(p, i * width));
    this.lists = unique.map(() => null);
    for (const b of blocks) {
      let i = this.find(b.start);
      for (; i < unique.length && (b.after === null || compare(unique[i]!, b.after) < 0); i++) (this.lists[i] ??= []).push(b.rule);
    }
  }

  /** Index of the last interval starting at or before `w`, or -1. */
  private find(w: Words): number {
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    const width = this.width;
    const s = this.starts;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      let cmp = 0;
      for (let k = 0; k < width; k++) {
        const x = s[mid * width + k]!;
        const y = w[k]!;
        if (x !== y) {
          cmp = x < y ? -1 : 1;
          break;
        }
      }
      if (cmp <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Rules of the blocks containing the address (any port), or null. */
  lookup(w: Words): NetworkRule[] | null {
    const i = this.find(w);
    return i < 0 ? null : this.lists[i]!;
  }

  /** IPv4 fast path: one word without an array. */
  lookup4(n: number): NetworkRule[] | null {
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    const s = this.starts;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! <= n) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? null : this.lists[found]!;
  }
}
