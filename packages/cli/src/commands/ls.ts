/** `moat ls [--json]`: every sandbox with its status, backend and age. */
import { Command } from "commander";
import { Sandbox } from "@moat/core";
import type { CliContext } from "../context.js";
import { sandboxContext } from "../sandbox/options.js";

export function lsCommand(context: CliContext): Command {
  return new Command("ls")
    .description("list sandboxes")
    .option("--json", "print JSON (an array of {name, status, backend, cpus, memoryMiB, createdAt, lastExit, broken})")
    .action(async (options: { json?: boolean }) => {
      const listed = await Sandbox.list(sandboxContext(context));
      const rows = listed.map(({ name, record, broken }) => ({
        name,
        status: record?.status ?? "broken",
        backend: record?.runningBackend ?? record?.backend ?? null,
        cpus: record?.cpus ?? null,
        memoryMiB: record?.memoryMiB ?? null,
        createdAt: record?.createdAt ?? null,
        lastExit: record?.lastExit ?? null,
        ...(broken ? { broken } : {}),
      }));
      if (options.json) {
        context.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const table = [["NAME", "STATUS", "BACKEND", "CPUS", "MEMORY", "CREATED"], ...rows.map((r) => [r.name, r.status, r.backend ?? "-", String(r.cpus ?? "-"), r.memoryMiB ? `${r.memoryMiB}M` : "-", r.createdAt ?? "-"])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      context.stdout(table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n");
      // A broken record is quarantined as it is read: say so, with the way out, rather than only "broken".
      for (const { name, broken } of rows.filter((r) => r.broken)) context.stderr(`moat: ${broken}\nfix: remove it with: moat rm --force ${name}\n`);
    });
}
