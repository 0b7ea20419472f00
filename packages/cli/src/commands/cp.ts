/**
 * `moat cp SRC DST`: copy a file between the host and a sandbox; the sandbox side is written
 * NAME:/path (e.g. `moat cp ./a.txt dev:/root/a.txt`, `moat cp dev:/etc/os-release .`).
 */
import { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Sandbox, SandboxError, SandboxErrorCode } from "@moat/core";
import type { CliContext } from "../context.js";
import { sandboxContext } from "../sandbox/options.js";

interface Endpoint {
  sandbox?: string;
  path: string;
}

export function parseEndpoint(text: string): Endpoint {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}):(\/.*)$/.exec(text);
  return m ? { sandbox: m[1]!, path: m[2]! } : { path: text };
}

export function cpCommand(context: CliContext): Command {
  return new Command("cp")
    .description("copy a file between the host and a sandbox (NAME:/absolute/path on the sandbox side)")
    .argument("<src>", "source: a host path or NAME:/path")
    .argument("<dst>", "destination: a host path or NAME:/path")
    .action(async (srcText: string, dstText: string) => {
      const src = parseEndpoint(srcText);
      const dst = parseEndpoint(dstText);
      if (Boolean(src.sandbox) === Boolean(dst.sandbox)) {
        throw new SandboxError(SandboxErrorCode.INVALID_OPTION, `cp needs exactly one side in a sandbox (got ${JSON.stringify(srcText)} → ${JSON.stringify(dstText)})`, {
          fix: "write the sandbox side as NAME:/absolute/path, e.g. moat cp ./file dev:/root/file",
        });
      }
      const ctx = sandboxContext(context);
      if (dst.sandbox) {
        const sandbox = await Sandbox.get(dst.sandbox, ctx);
        const info = await stat(src.path);
        await sandbox.files.write(dst.path, createReadStream(src.path), { mode: info.mode & 0o7777 });
      } else {
        const sandbox = await Sandbox.get(src.sandbox!, ctx);
        let target = dst.path;
        if ((await stat(target).catch(() => undefined))?.isDirectory()) target = join(target, basename(src.path));
        const client = await sandbox.agent();
        try {
          await pipeline(client.files.get(src.path), createWriteStream(target));
        } finally {
          await client.close();
        }
      }
    });
}
