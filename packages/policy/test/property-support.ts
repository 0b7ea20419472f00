/** Re-exports for the property tests, plus the CIDR masking helper they use to build rules. */
export { finishRule, IndexedMatcher, LinearMatcher, normalizeHost, parseIp, type NetworkDefaults, type NetworkRequest, type NetworkRuleSpec, type PortRange } from "@moat/policy";
import { maskWords } from "../src/network/ip.js";

export function maskWordsForTest(words: readonly number[], prefix: number): number[] {
  return maskWords(words, prefix);
}
