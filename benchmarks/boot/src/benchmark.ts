/**
 * Runs the boot benchmark where it is (it must be a host whose /dev/kvm boots Linux: the nested L1,
 * or a real KVM machine): one discarded warm-up boot per contender, then `runs` rounds, interleaved
 * (A B A B ...) so drift in the machine's load hits every contender alike.
 */
import { contenders as allContenders, type Contender } from "./contenders/index.js";
import type { BootImage } from "./image.js";
import { buildReport, type BootReport, type ContenderResult } from "./report.js";

export async function runBootBenchmark(image: BootImage, runs: number, log: (line: string) => void, contenders: Contender[] = allContenders): Promise<BootReport> {
  const results: ContenderResult[] = [];
  const active: { contender: Contender; result: ContenderResult }[] = [];
  for (const contender of contenders) {
    const result: ContenderResult = { name: contender.name, samples: [] };
    results.push(result);
    const reason = await contender.unavailableReason();
    if (reason) {
      result.unavailable = reason;
      log(`${contender.name}: not run: ${reason}`);
    } else {
      active.push({ contender, result });
    }
  }
  for (let round = 0; round <= runs; round++) {
    for (const { contender, result } of active) {
      if (result.error) continue;
      try {
        const sample = await contender.bootOnce(image);
        if (round === 0) {
          log(`${contender.name}: warm-up ${sample.readyMs.toFixed(0)} ms (not counted)`);
        } else {
          result.samples.push(sample);
          log(`${contender.name}: run ${round}/${runs}: ready in ${sample.readyMs.toFixed(0)} ms (guest uptime ${(sample.guestUptimeS * 1000).toFixed(0)} ms)`);
        }
      } catch (error) {
        result.error = (error as Error).message;
        log(`${contender.name}: failed: ${result.error}`);
      }
    }
  }
  return buildReport(results, runs, image.memoryMiB, image.kernel);
}
