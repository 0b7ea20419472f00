/** Test helpers: compile a policy from YAML text (no host checks) and build matchers from it. */
import { expect } from "vitest";
import {
  builtinLayer,
  compileNetwork,
  DiagnosticBag,
  formatDiagnostics,
  LinearMatcher,
  mergeLayers,
  parsePolicyText,
  type NetworkPlan,
} from "@moat/policy";

export function networkFromYaml(text: string): { plan: NetworkPlan; linear: LinearMatcher; bag: DiagnosticBag } {
  const bag = new DiagnosticBag();
  const layer = parsePolicyText(text, "test.yaml", "file", bag).layer;
  expect(bag.hasErrors(), formatDiagnostics(bag.items)).toBe(false);
  const policy = mergeLayers([builtinLayer(), layer]);
  const plan = compileNetwork(policy, bag);
  return { plan, linear: new LinearMatcher(plan.rules, plan.defaults), bag };
}
