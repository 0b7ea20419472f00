/**
 * The benchmark's parts, not its timing: the fixture is a valid 1,000-rule policy, both matchers
 * agree on every request of the corpus, a disagreement is detected, and the statistics are right.
 */
import { describe, expect, test } from "vitest";
import { checkSameResults, compileFixture, runPolicyBenchmark, summarize } from "@moat/bench-policy";

describe("bench-policy", () => {
  test("the fixture compiles to at least 1,000 rules and both matchers agree on every request", () => {
    const { plan, linear, fixture } = compileFixture({ rules: 1000, requests: 4000 });
    expect(plan.rules.length).toBeGreaterThanOrEqual(1000);
    const { allowed, denied } = checkSameResults((r) => plan.decide(r), (r) => linear.decide(r), fixture.requests);
    expect(allowed).toBeGreaterThan(fixture.requests.length / 10);
    expect(denied).toBeGreaterThan(fixture.requests.length / 10);
  });

  test("a disagreement is reported", () => {
    const { plan, fixture } = compileFixture({ rules: 50, requests: 200 });
    expect(() => checkSameResults((r) => plan.decide(r), () => ({ verdict: "deny", rule: null }), fixture.requests)).toThrow(/matchers disagree/);
  });

  test("summary statistics", () => {
    expect(summarize([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 2, 3]).median).toBe(2.5);
  });

  test("a short run reports both matchers and their ratio", () => {
    const r = runPolicyBenchmark({ rules: 100, requests: 500, rounds: 1, roundMs: 20 });
    expect(r.indexed.median).toBeGreaterThan(0);
    expect(r.linear.median).toBeGreaterThan(0);
    expect(r.ratio).toBeCloseTo(r.indexed.median / r.linear.median);
  });
});
