/** Vitest project for the guest agent: drives build/moat-agent-host (and the ASan build) over a Unix socket. */
import { defineProject, mergeConfig } from "vitest/config";
import { shared } from "../../vitest.shared.js";

export default mergeConfig(shared, defineProject({ test: { name: "guest-agent" } }));
