/** Unit tests of the boot benchmark's statistics and RSS accounting (the benchmark itself is not a test). */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(shared, defineProject({ test: { name: "bench-boot" } }));
