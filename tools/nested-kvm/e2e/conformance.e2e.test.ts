/**
 * @moat/backend-api's conformance kit against the real backend with a spec that really boots (the
 * guest kernel + base image + agent); the guest check talks to the agent over vsock.
 */
import { mkdirSync } from "node:fs";
import { describe } from "vitest";
import { describeBackendConformance } from "@moat/backend-api/conformance";
import { RpcClient } from "@moat/rpc";
import { AGENT_PORT, guestArtifacts, sandboxSpec } from "./guest-artifacts.js";
import { backendName, loadBackend, waitForAgent } from "./sandbox.js";
import { notHereReason } from "./where.js";

let cid = 100;

if (notHereReason) {
  describe.skip(`backend conformance: ${backendName} (${notHereReason})`, () => {});
} else {
  describeBackendConformance(backendName, loadBackend, {
    bootableSpec: ({ workDir }) => {
      mkdirSync(workDir, { recursive: true });
      return sandboxSpec(guestArtifacts(), workDir, cid++);
    },
    guestCheck: async (machine, spec) => {
      await waitForAgent(machine, spec);
      const client = await RpcClient.connect(await machine.connect(AGENT_PORT), { timeoutMs: 30_000 });
      try {
        const result = await client.run(["echo", "conformance"]);
        if (result.code !== 0 || result.stdout.toString() !== "conformance\n") {
          throw new Error(`echo in the guest returned ${JSON.stringify(result)}`);
        }
      } finally {
        await client.close();
      }
    },
    stepTimeoutMs: 120_000,
  });
}
