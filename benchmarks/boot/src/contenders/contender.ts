/** What the boot benchmark compares: anything that can boot a BootImage to its ready marker. */
import type { BootImage } from "../image.js";
import type { RssBreakdown } from "../smaps.js";

export interface BootSample {
  /** Wall time from "create/spawn" to the ready marker on the console, in ms. */
  readyMs: number;
  /** The guest's own uptime when it printed the marker, in seconds. */
  guestUptimeS: number;
  /** VMM process memory split at the ready marker, where measurable. */
  rss?: RssBreakdown;
}

export interface Contender {
  name: string;
  /** undefined when it can run here; otherwise why not (printed in the report). */
  unavailableReason(): Promise<string | undefined>;
  bootOnce(image: BootImage): Promise<BootSample>;
}

/** Finds "<marker> <uptime>" in console text; undefined until the whole line arrived. */
export function parseReadyLine(console: string, marker: string): number | undefined {
  const match = new RegExp(`${marker} (\\d+\\.\\d+)\\r?\\n`).exec(console);
  return match ? Number(match[1]) : undefined;
}
