/**
 * A reference agent in Node: serves exec with child_process and files with node:fs, confined
 * under a root directory. It speaks the same protocol as the C guest agent, so it drives the
 * client's tests and the benchmark end to end with real processes, pipes and files. Not a
 * sandbox: it runs commands on the host it lives on.
 */
import { spawn } from "node:child_process";
import { createReadStream, promises as fsp, type Stats } from "node:fs";
import { dirname, join, posix } from "node:path";
import os from "node:os";
import { RpcError } from "../errors.js";
import { pb, type IFileInfo } from "../proto.js";
import { signalName } from "../client/signals.js";
import type { CallHandlers } from "./serve.js";

export interface NodeAgentOptions {
  /** Directory that guest paths are resolved under ("/x" → root + "/x"). Default "/". */
  root?: string;
  agentVersion?: string;
}

function fileInfo(name: string, st: Stats, linkTarget?: string): IFileInfo {
  const type = st.isFile() ? pb.FileType.FILE_TYPE_REGULAR : st.isDirectory() ? pb.FileType.FILE_TYPE_DIRECTORY
    : st.isSymbolicLink() ? pb.FileType.FILE_TYPE_SYMLINK : pb.FileType.FILE_TYPE_OTHER;
  return { name, type, mode: st.mode & 0o7777, size: st.size, mtimeNs: Math.round(st.mtimeMs * 1e6), uid: st.uid, gid: st.gid, linkTarget: linkTarget ?? "" };
}

export function createNodeAgent(options: NodeAgentOptions = {}): CallHandlers {
  const root = options.root ?? "/";
  const started = Date.now();
  let processes = 0;
  const resolve = (p: string): string => {
    if (!p.startsWith("/")) throw new RpcError("INVALID_ARGUMENT", `path ${JSON.stringify(p)} is not absolute`);
    return join(root, posix.normalize(p));
  };

  return {
    async health(stream) {
      await stream.send({
        health: {
          uptimeMs: Date.now() - started,
          memTotalBytes: os.totalmem(),
          memAvailableBytes: os.freemem(),
          loadAvgMilli: Math.round((os.loadavg()[0] ?? 0) * 1000),
          processes,
          agentVersion: options.agentVersion ?? "moat-node-agent/0.1.0",
        },
      }, { fin: true });
    },

    async exec(stream, req) {
      if (req.tty) throw new RpcError("UNIMPLEMENTED", "exec with tty needs the guest agent (the Node agent has no pty)");
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const e of req.env) {
        const i = e.indexOf("=");
        env[e.slice(0, i)] = e.slice(i + 1);
      }
      const child = spawn(req.argv[0]!, req.argv.slice(1), {
        cwd: req.cwd ? resolve(req.cwd) : root,
        env,
        stdio: [req.stdinOpen ? "pipe" : "ignore", "pipe", "pipe"],
        detached: true,
        ...(req.uid !== undefined && req.uid !== null && req.uid !== process.getuid?.() ? { uid: req.uid } : {}),
        ...(req.gid !== undefined && req.gid !== null && req.gid !== process.getgid?.() ? { gid: req.gid } : {}),
      });
      const spawned = await new Promise<boolean>((res) => {
        child.once("spawn", () => res(true));
        child.once("error", (err: NodeJS.ErrnoException) => {
          stream.reset("SPAWN_FAILED", `execve ${req.argv[0]}: ${err.message}`, Math.abs(err.errno ?? 0));
          res(false);
        });
      });
      if (!spawned) return;
      processes++;
      const killGroup = (sig: number | NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          /* already gone */
        }
      };
      stream.signal.addEventListener("abort", () => killGroup("SIGKILL"), { once: true });
      await stream.send({ started: { pid: child.pid! } });
      // Output: pause the pipe while a chunk waits for credit, so a slow reader stalls the child.
      const pump = (src: NodeJS.ReadableStream, key: "stdoutData" | "stderrData") =>
        new Promise<void>((res) => {
          src.on("data", (data: Buffer) => {
            src.pause();
            const parts: Buffer[] = [];
            for (let off = 0; off < data.length; off += stream.maxChunk) parts.push(data.subarray(off, off + stream.maxChunk));
            Promise.all(parts.map((p) => stream.send({ [key]: { data: p } }))).then(() => src.resume(), () => killGroup("SIGKILL"));
          });
          src.on("end", res);
          src.on("error", () => res());
        });
      const outputs = Promise.all([pump(child.stdout!, "stdoutData"), pump(child.stderr!, "stderrData")]);
      const input = (async () => {
        for await (const msg of stream) {
          if (msg.body === "stdinData" && child.stdin) {
            if (!child.stdin.write(msg.stdinData!.data ?? new Uint8Array(0))) await new Promise((r) => child.stdin!.once("drain", r));
          } else if (msg.body === "signal") {
            killGroup(signalName(msg.signal!.number ?? 15) as NodeJS.Signals);
          }
        }
        child.stdin?.end();
      })();
      input.catch(() => undefined);
      child.stdin?.on("error", () => undefined);
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.once("exit", (c, s) => res([c, s])));
      processes--;
      await outputs;
      if (stream.isFinished) return;
      const exit = sig ? { signal: os.constants.signals[sig] } : { code: code ?? 0 };
      await stream.send({ exit }, { fin: true });
    },

    async filePut(stream, req) {
      const target = resolve(req.path);
      if (req.makeParents) await fsp.mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.moat-tmp-${process.pid}-${stream.id}`;
      const fh = await fsp.open(tmp, "w", req.mode || 0o644);
      try {
        for await (const msg of stream) {
          if (msg.body === "fileData") await fh.write(msg.fileData!.data ?? new Uint8Array(0));
        }
        await fh.chmod(req.mode || 0o644);
        if (req.mtimeNs !== undefined && req.mtimeNs !== null) {
          const t = new Date(Number(req.mtimeNs) / 1e6);
          await fh.utimes(t, t);
        }
        await fh.close();
        await fsp.rename(tmp, target);
      } catch (err) {
        await fh.close().catch(() => undefined);
        await fsp.rm(tmp, { force: true });
        throw err;
      }
      await stream.send({ fileInfo: fileInfo(req.path, await fsp.stat(target)) }, { fin: true });
    },

    async fileGet(stream, req) {
      const path = resolve(req.path);
      const st = await fsp.stat(path);
      if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${req.path} is a directory`), { code: "EISDIR", errno: 21 });
      await stream.send({ fileInfo: fileInfo(req.path, st) });
      const start = Number(req.offset);
      const end = Number(req.length) > 0 ? start + Number(req.length) - 1 : undefined;
      const rs = createReadStream(path, { start, end, highWaterMark: stream.maxChunk });
      stream.signal.addEventListener("abort", () => rs.destroy(), { once: true });
      for await (const data of rs) await stream.send({ fileData: { data: data as Buffer } });
      await stream.close();
    },

    async stat(stream, req) {
      const path = resolve(req.path);
      const st = req.noFollow ? await fsp.lstat(path) : await fsp.stat(path);
      const link = st.isSymbolicLink() ? await fsp.readlink(path) : undefined;
      await stream.send({ fileInfo: fileInfo(req.path, st, link) }, { fin: true });
    },

    async list(stream, req) {
      const dir = resolve(req.path);
      const names = (await fsp.readdir(dir)).sort();
      for (let i = 0; i < names.length; i += 256) {
        const entries = await Promise.all(names.slice(i, i + 256).map(async (n) => fileInfo(n, await fsp.lstat(join(dir, n)))));
        await stream.send({ entries: { entries } });
      }
      await stream.close();
    },

    async mkdir(stream, req) {
      await fsp.mkdir(resolve(req.path), { mode: req.mode || 0o755, recursive: req.parents });
      await stream.close();
    },

    async remove(stream, req) {
      const path = resolve(req.path);
      const st = await fsp.lstat(path);
      if (st.isDirectory() && !req.recursive) await fsp.rmdir(path);
      else await fsp.rm(path, { recursive: req.recursive });
      await stream.close();
    },
  };
}
