/**
 * Golden vectors (test-vectors/): frames the TS encoder must produce byte for byte (decoded by the
 * C test), frames the C encoder produced that the TS decoder must understand, and the C test
 * program itself (make -C c test), so one `vitest run` checks both directions.
 * Set MOAT_RPC_WRITE_VECTORS=1 to rewrite test-vectors/ts (only for a deliberate, compatible change).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FrameDecoder } from "../src/frame/decoder.js";
import { encodeFrame } from "../src/frame/encode.js";
import { pb } from "../src/proto.js";
import { C_CASES, TS_CASES, type VectorCase } from "./vector-cases.js";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const vectors = join(pkg, "test-vectors");
const writing = process.env.MOAT_RPC_WRITE_VECTORS === "1";

type Codec = { fromObject(o: object): object; encode(m: object): { finish(): Uint8Array }; decode(b: Uint8Array): object; toObject(m: object, o: object): Record<string, unknown> };
const codec = (name: NonNullable<VectorCase["payloadType"]>) => pb[name] as unknown as Codec;

/** number[] under a "data" key → Uint8Array, recursively (cases are plain JSON-like objects). */
function withBytes(v: unknown, key = ""): unknown {
  if (Array.isArray(v)) return key === "data" ? Uint8Array.from(v as number[]) : v.map((x) => withBytes(x));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withBytes(x, k)]));
  return v;
}

function encodeCase(c: VectorCase): Buffer {
  const payload = c.raw ? Buffer.from(c.raw) : c.payloadType ? codec(c.payloadType).encode(codec(c.payloadType).fromObject(withBytes(c.message) as object)).finish() : undefined;
  return encodeFrame(c.streamId, c.type, c.flags, payload);
}

function decodedMeaning(type: NonNullable<VectorCase["payloadType"]>, payload: Uint8Array) {
  const c = codec(type);
  return c.toObject(c.decode(payload), { longs: Number, bytes: Array, enums: Number, defaults: false });
}

const fileName = (i: number, c: VectorCase) => `${String(i).padStart(2, "0")}-${c.name}.bin`;

function readIndex(dir: string): { name: string; file: string; type: number; streamId: number; flags: number }[] {
  return readFileSync(join(dir, "index.txt"), "utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const [name, file, type, streamId, flags] = l.split(/\s+/);
    return { name: name!, file: file!, type: Number(type), streamId: Number(streamId), flags: Number(flags) };
  });
}

if (writing) {
  it("writes test-vectors/ts", () => {
    const tmp = join(vectors, `ts.tmp-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const index: string[] = ["# name file type stream_id flags  (written by packages/rpc/test/golden.test.ts)"];
    const json: object[] = [];
    TS_CASES.forEach((c, i) => {
      const file = fileName(i, c);
      writeFileSync(join(tmp, file), encodeCase(c));
      index.push(`${c.name} ${file} ${c.type} ${c.streamId} ${c.flags}`);
      json.push({ name: c.name, file, streamId: c.streamId, type: c.type, flags: c.flags, payloadType: c.payloadType, message: c.message ?? null, raw: c.raw ?? null });
    });
    writeFileSync(join(tmp, "index.txt"), `${index.join("\n")}\n`);
    writeFileSync(join(tmp, "index.json"), `${JSON.stringify(json, null, 2)}\n`);
    rmSync(join(vectors, "ts"), { recursive: true, force: true });
    renameSync(tmp, join(vectors, "ts"));
  });
} else {
  describe("golden vectors: TS encoder", () => {
    const index = readIndex(join(vectors, "ts"));
    it("covers every TS case, in order", () => {
      expect(index.map((e) => e.name)).toEqual(TS_CASES.map((c) => c.name));
    });
    TS_CASES.forEach((c, i) => {
      it(`encodes ${c.name} exactly as committed`, () => {
        const committed = readFileSync(join(vectors, "ts", fileName(i, c)));
        expect(encodeCase(c).toString("hex"), `TS encoding of ${c.name} changed: an incompatible wire change? (rewrite vectors only for a compatible one)`).toBe(committed.toString("hex"));
      });
    });
  });

  describe("golden vectors: C encoder → TS decoder", () => {
    const index = readIndex(join(vectors, "c"));
    it("has every C case", () => {
      expect(index.map((e) => e.name)).toEqual(C_CASES.map((c) => c.name));
    });
    for (const c of C_CASES) {
      it(`decodes ${c.name}`, () => {
        const entry = index.find((e) => e.name === c.name)!;
        const bytes = readFileSync(join(vectors, "c", entry.file));
        const frames = new FrameDecoder().push(bytes);
        expect(frames).toHaveLength(1);
        const f = frames[0]!;
        expect({ type: f.type, streamId: f.streamId, flags: f.flags }).toEqual({ type: c.type, streamId: c.streamId, flags: c.flags });
        if (!c.payloadType) return expect(f.payload.length).toBe(0);
        expect(decodedMeaning(c.payloadType, f.payload)).toEqual(c.message);
        // And protobufjs re-encodes the decoded message to the very same bytes.
        const cd = codec(c.payloadType);
        expect(Buffer.from(cd.encode(cd.decode(f.payload)).finish()).toString("hex")).toBe(f.payload.toString("hex"));
      });
    }
  });

  describe("golden vectors: the C test program (c/test/golden_test.c)", () => {
    const haveCc = spawnSync("cc", ["--version"]).status === 0 && spawnSync("make", ["--version"]).status === 0;
    it.skipIf(!haveCc)("decodes the TS vectors and reproduces the C vectors (host gcc and musl builds)", () => {
      if (!existsSync(join(pkg, "c", "build", "host", "golden_test"))) console.log("building c/ (no prior build)");
      const out = execFileSync("make", ["-s", "-C", join(pkg, "c"), "test"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(out).toMatch(/golden: \d+ passed, 0 failed/);
    });
    if (!haveCc) console.log("skipping the C golden test: no C compiler/make (run tools/bootstrap.sh)");
  });
}
