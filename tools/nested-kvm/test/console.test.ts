/** ConsoleReader: the exit marker is taken out of the stream wherever chunks split it; all else passes. */
import { describe, expect, it } from "vitest";
import { ConsoleReader } from "@moat/nested-kvm";

function feed(chunks: string[], nonce = "abc123") {
  const out: string[] = [];
  const reader = new ConsoleReader(nonce, (data) => out.push(data.toString("latin1")));
  for (const chunk of chunks) reader.push(Buffer.from(chunk, "latin1"));
  reader.end();
  return { text: out.join(""), status: reader.status, reader };
}

describe("ConsoleReader", () => {
  it("passes output through and reads the status from the marker", () => {
    const { text, status } = feed(["hello\nworld\n", "\nMOAT-NESTED-EXIT abc123 3\nreboot: Restarting system\n"]);
    expect(text).toBe("hello\nworld\n");
    expect(status).toBe(3);
  });

  it("finds a marker split across many chunks, byte by byte", () => {
    const all = "partial line without newline\nMOAT-NESTED-EXIT abc123 42\n";
    const { text, status } = feed([...all]);
    expect(text).toBe("partial line without newline");
    expect(status).toBe(42);
  });

  it("ignores a marker with another nonce (the command cannot fake its status)", () => {
    const { text, status } = feed(["x\nMOAT-NESTED-EXIT 000000 0\n", "y\n"]);
    expect(text).toBe("x\nMOAT-NESTED-EXIT 000000 0\ny\n");
    expect(status).toBeUndefined();
  });

  it("releases held-back text at the end when no marker came, and keeps a tail", () => {
    const { text, status, reader } = feed(["line1\nline2\n", "\nMOAT-NEST"]);
    expect(text).toBe("line1\nline2\n\nMOAT-NEST");
    expect(status).toBeUndefined();
    expect(reader.lastLines(2)).toBe("\nMOAT-NEST");
  });

  it("streams a partial line at once when it cannot be the marker", () => {
    const out: string[] = [];
    const reader = new ConsoleReader("n", (data) => out.push(data.toString()));
    reader.push(Buffer.from("progress 50%"));
    expect(out.join("")).toBe("progress 50%");
  });
});
