/**
 * VMM memory overhead from /proc/<pid>/smaps: the process's resident memory minus what the guest
 * touched, where the guest's RAM is the anonymous mapping whose size matches the guest memory size
 * (QEMU maps guest RAM as one anonymous region, maybe with an alignment page). moat's VMM reports its
 * resident guest RAM itself (stats().guestResidentBytes), so no mapping has to be guessed there.
 */
import { readFileSync } from "node:fs";

export interface RssBreakdown {
  /** Resident set of the whole process. */
  totalRssBytes: number;
  /** Resident pages of the guest RAM mapping (guest memory touched). */
  guestRssBytes: number;
  /** totalRss - guestRss: what the VMM itself costs. */
  overheadBytes: number;
  /** Of the overhead, what the VMM process had before it loaded the VMM (a JS runtime), if known. */
  runtimeBaselineBytes?: number;
}

interface Mapping {
  path: string;
  sizeKiB: number;
  rssKiB: number;
}

export function parseSmaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of text.split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      current = { path: header[1] ?? "", sizeKiB: 0, rssKiB: 0 };
      mappings.push(current);
      continue;
    }
    const field = /^(Size|Rss):\s+(\d+) kB$/.exec(line);
    if (field && current) {
      if (field[1] === "Size") current.sizeKiB = Number(field[2]);
      else current.rssKiB = Number(field[2]);
    }
  }
  return mappings;
}

/** Splits a process's RSS into guest memory and VMM overhead; throws when no guest RAM mapping fits. */
export function rssBreakdown(smapsText: string, guestMemoryBytes: number): RssBreakdown {
  const mappings = parseSmaps(smapsText);
  const guestKiB = guestMemoryBytes / 1024;
  const candidates = mappings.filter((m) => (m.path === "" || m.path.startsWith("[anon")) && m.sizeKiB >= guestKiB && m.sizeKiB <= guestKiB + 2048);
  if (candidates.length === 0) throw new Error(`no anonymous mapping of ${guestKiB} KiB (the guest RAM) in smaps`);
  const guest = candidates.reduce((a, b) => (b.rssKiB > a.rssKiB ? b : a));
  const totalKiB = mappings.reduce((sum, m) => sum + m.rssKiB, 0);
  return { totalRssBytes: totalKiB * 1024, guestRssBytes: guest.rssKiB * 1024, overheadBytes: (totalKiB - guest.rssKiB) * 1024 };
}

export function processRssBreakdown(pid: number, guestMemoryBytes: number): RssBreakdown {
  return rssBreakdown(readFileSync(`/proc/${pid}/smaps`, "utf8"), guestMemoryBytes);
}
