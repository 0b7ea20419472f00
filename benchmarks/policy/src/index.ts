/** @moat/bench-policy: the policy decision benchmark (see main.ts for the command). */
export { runPolicyBenchmark, compileFixture, checkSameResults, type BenchReport, type BenchOptions } from "./benchmark.js";
export { makeFixture, prng } from "./fixture.js";
export { summarize, type Summary } from "./stats.js";
export { formatReport } from "./report.js";
