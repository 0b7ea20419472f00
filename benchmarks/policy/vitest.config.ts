/** Unit tests of the policy benchmark's fixture and statistics (the timing itself is not a test). */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(shared, defineProject({ test: { name: "bench-policy" } }));
