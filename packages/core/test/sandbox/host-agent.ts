/**
 * Test support: a backend whose "guest" is the real moat agent running on the host in host mode
 * (`moat-agent-host --listen-unix`). No VM boots, but every exec and file call crosses the real
 * RPC to the real agent, so the Sandbox API's logic (state, lifecycle, streaming) is tested for real.
 */
import { createFakeBackend } from "@moat/backend-api/testing";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const AGENT_HOST_BINARY = resolve(import.meta.dirname, "../../../../guest/agent/build/moat-agent-host");

export function agentHostAvailable(): boolean {
  return existsSync(AGENT_HOST_BINARY);
}

export interface HostAgent {
  socketPath: string;
  process: ChildProcess;
  stop(): void;
}

export async function startHostAgent(dir: string): Promise<HostAgent> {
  const socketPath = join(dir, "agent.sock");
  const child = spawn(AGENT_HOST_BINARY, ["--listen-unix", socketPath], { stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; i < 100 && !existsSync(socketPath); i++) await sleep(20);
  if (!existsSync(socketPath)) throw new Error(`moat-agent-host did not create ${socketPath}`);
  return { socketPath, process: child, stop: () => child.kill("SIGKILL") };
}

/** A backend named `name` whose guest port 1024 is the host-mode agent at `socketPath`. */
export function hostAgentBackend(name: string, socketPath: string) {
  return createFakeBackend({
    name,
    guestPorts: {
      1024: (guestEnd) => {
        const socket = connect(socketPath);
        guestEnd.pipe(socket).pipe(guestEnd);
        socket.on("error", (err) => guestEnd.destroy(err));
        guestEnd.on("error", () => socket.destroy());
      },
    },
  });
}
