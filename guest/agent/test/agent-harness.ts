/**
 * Test harness: starts a host-mode agent binary (`--listen-unix`) in a temporary directory, waits
 * for its ready marker, and connects the real @moat/rpc client over the Unix socket.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RpcClient } from "@moat/rpc";

export const agentDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The host-mode builds the suite runs against; the ASan build only when it was built. */
export function agentBinaries(): { name: string; path: string }[] {
  const fromEnv = process.env.MOAT_AGENT_BIN;
  if (fromEnv) return [{ name: "custom", path: fromEnv }];
  const list = [{ name: "host", path: join(agentDir, "build/moat-agent-host") }];
  const asan = join(agentDir, "build/moat-agent-asan");
  if (existsSync(asan)) list.push({ name: "asan", path: asan });
  else console.log(`guest-agent tests: ${asan} not built (make asan); running the plain host build only`);
  return list;
}

export interface RunningAgent {
  dir: string;
  socket: string;
  proc: ChildProcess;
  stderr: () => string;
  client(): Promise<RpcClient>;
  stop(): Promise<number | null>;
}

export async function startAgent(binary: string, extraArgs: string[] = []): Promise<RunningAgent> {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`make -C guest/agent\` (or pnpm --filter @moat/guest-agent build)`);
  const dir = mkdtempSync(join(tmpdir(), "moat-agent-test-"));
  const socket = join(dir, "agent.sock");
  const proc = spawn(binary, ["--listen-unix", socket, ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0:exitcode=66", UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1:exitcode=67" },
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`agent did not become ready in 10 s; stderr:\n${err}`)), 10_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("MOAT_AGENT_READY\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before ready; stderr:\n${err}`));
    });
  });
  const clients: RpcClient[] = [];
  return {
    dir,
    socket,
    proc,
    stderr: () => err,
    async client() {
      const sock = connect(socket);
      await new Promise<void>((res, rej) => sock.once("connect", res).once("error", rej));
      const c = await RpcClient.connect(sock);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) await c.close().catch(() => undefined);
      const exited = new Promise<number | null>((res) => {
        if (proc.exitCode !== null || proc.signalCode !== null) res(proc.exitCode);
        else proc.once("exit", (code) => res(code));
      });
      proc.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
