/**
 * `moat cp SRC DST`: copy a file between the host and a sandbox; the sandbox side is written
 * NAME:/path (e.g. `moat cp ./a.txt dev:/root/a.txt`, `moat cp dev:/etc/os-release .`).
 *
 * A copy out of the sandbox lands in a temp file beside the target and is renamed over it only when
 * the whole file arrived: a failed copy (no such file in the guest, a dropped connection) leaves an
 * existing host file as it was.
 */
import { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, posix, resolve } from "node:path";
import { constants } from "node:os";
import { Sandbox, SandboxError, SandboxErrorCode } from "@moat/core";
import { RpcError } from "@moat/rpc";
import type { CliContext } from "../context.js";
import { invocationDir, sandboxContext } from "../sandbox/options.js";

interface Endpoint {
  sandbox?: string;
  path: string;
}

const invalid = (message: string, fix: string) => new SandboxError(SandboxErrorCode.INVALID_OPTION, message, { fix });

const SANDBOX_SIDE = /^([a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}):(.*)$/;

/** NAME:/path is the sandbox side; anything else (and ./name:with-colon) is a host path. */
export function parseEndpoint(text: string): Endpoint {
  const m = text.startsWith("./") || text.startsWith("/") ? null : SANDBOX_SIDE.exec(text);
  if (!m) return { path: text };
  if (!m[2]!.startsWith("/")) {
    throw invalid(`${JSON.stringify(text)}: the sandbox side needs an absolute path`, `write it as ${m[1]}:/${m[2] || "absolute/path"} (a host file whose name has a colon: ./${text})`);
  }
  return { sandbox: m[1]!, path: m[2]! };
}

export function cpCommand(context: CliContext): Command {
  return new Command("cp")
    .description("copy a file between the host and a sandbox (NAME:/absolute/path on the sandbox side)")
    .argument("<src>", "source: a host path or NAME:/path")
    .argument("<dst>", "destination: a host path or NAME:/path (a directory keeps the source's name)")
    .action(async (srcText: string, dstText: string) => {
      const src = parseEndpoint(srcText);
      const dst = parseEndpoint(dstText);
      if (Boolean(src.sandbox) === Boolean(dst.sandbox)) {
        throw invalid(
          `cp needs exactly one side in a sandbox (got ${JSON.stringify(srcText)} → ${JSON.stringify(dstText)})`,
          "write the sandbox side as NAME:/absolute/path, e.g. moat cp ./file dev:/root/file",
        );
      }
      const host = src.sandbox ? dst : src;
      if (host.path === "-") {
        throw invalid(
          "cp does not stream through stdin or stdout (-)",
          src.sandbox ? `stream a file with: moat exec ${src.sandbox} -- cat ${src.path} > FILE` : `stream a file with: moat exec -i ${dst.sandbox} -- sh -c 'cat > ${dst.path}' < FILE`,
        );
      }
      const ctx = sandboxContext(context);
      const here = invocationDir(context.env);
      if (dst.sandbox) {
        const source = resolve(here, src.path);
        const info = await stat(source).catch(() => undefined);
        if (!info) throw invalid(`${src.path}: no such file on the host`, "check the path (relative paths start where you ran moat)");
        if (!info.isFile()) throw invalid(`${src.path}: not a regular file`, "moat cp copies one file; for a directory, pack it first (tar -czf dir.tgz dir) and copy the archive");
        const sandbox = await Sandbox.get(dst.sandbox, ctx);
        // Like cp(1): a directory on the sandbox side keeps the source's name, with or without a trailing /.
        const intoDir = dst.path.endsWith("/") || (await sandbox.files.stat(dst.path).catch(() => undefined))?.type === "directory";
        const target = intoDir ? posix.join(dst.path, basename(source)) : dst.path;
        await sandbox.files.write(target, createReadStream(source), { mode: info.mode & 0o7777 }).catch((err: Error) => {
          if (!(err instanceof RpcError)) throw err; // not running, unreachable: those errors carry their own fix
          const why = err.message.replace(/^put \S+: /, "");
          const dir = dirname(target);
          const fix = err.errno === constants.errno.ENOENT ? `create the directory first: moat exec ${dst.sandbox} -- mkdir -p ${dir}` : `look at what is there: moat exec ${dst.sandbox} -- ls -ld ${dir}`;
          throw invalid(`cannot copy ${src.path} into ${dst.sandbox}:${target}: ${why}`, fix);
        });
      } else {
        const sandbox = await Sandbox.get(src.sandbox!, ctx);
        let target = resolve(here, dst.path);
        if ((await stat(target).catch(() => undefined))?.isDirectory()) target = join(target, basename(src.path));
        const partial = join(dirname(target), `.${basename(target)}.moat-cp-${process.pid}`);
        try {
          await sandbox.files.readTo(src.path, createWriteStream(partial, { flags: "wx" })).catch((err: Error) => {
            if (err instanceof SandboxError) throw err; // the sandbox ended under the copy: it says how, with its fix
            if (err instanceof RpcError) {
              const fix =
                err.errno === constants.errno.EISDIR
                  ? `moat cp copies one file; pack the directory first: moat exec ${src.sandbox} -- tar -czf /tmp/dir.tgz -C ${dirname(src.path)} ${basename(src.path)}, then copy /tmp/dir.tgz`
                  : `look at what is there: moat exec ${src.sandbox} -- ls -l ${dirname(src.path)}`;
              throw invalid(`cannot copy ${src.sandbox}:${src.path} out of the sandbox: ${err.message.replace(/^get \S+: /, "")}`, fix);
            }
            throw invalid(`cannot write ${target} on the host: ${err.message}`, `check the destination directory ${dirname(target)} (permissions, free space)`);
          });
          await rename(partial, target);
        } finally {
          await rm(partial, { force: true });
        }
      }
    });
}
