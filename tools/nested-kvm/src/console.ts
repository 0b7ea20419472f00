/**
 * Reads the L1 serial console: passes the command's output through as it arrives, takes out the
 * exit-status line "\nMOAT-NESTED-EXIT <nonce> <status>\n" that /init prints, and keeps a tail of
 * everything for error reports. A partial line that could still become the marker is held back
 * until it is decided.
 */
export class ConsoleReader {
  private held = "";
  private tail = "";
  private done = false;
  /** The inner command's exit status, once the marker was seen. */
  status: number | undefined;
  private readonly head: string;
  private readonly pattern: RegExp;

  constructor(
    nonce: string,
    private readonly emit: (data: Buffer) => void,
    private readonly tailBytes = 16 * 1024,
  ) {
    this.head = `\nMOAT-NESTED-EXIT ${nonce} `;
    this.pattern = new RegExp(`\\nMOAT-NESTED-EXIT ${nonce} (\\d+)\\r?\\n`);
  }

  /** Feeds one chunk of console bytes. */
  push(chunk: Buffer): void {
    const text = chunk.toString("latin1");
    this.tail = (this.tail + text).slice(-this.tailBytes);
    if (this.done) return;
    const data = this.held + text;
    this.held = "";
    const match = this.pattern.exec(data);
    if (match) {
      this.output(data.slice(0, match.index));
      this.status = Number(match[1]);
      this.done = true;
      return;
    }
    const lastNewline = data.lastIndexOf("\n");
    const candidate = lastNewline >= 0 ? data.slice(lastNewline) : "";
    if (candidate && (this.head.startsWith(candidate) || (candidate.startsWith(this.head) && /^[\d\r]*$/.test(candidate.slice(this.head.length))))) {
      this.held = candidate;
      this.output(data.slice(0, lastNewline));
    } else {
      this.output(data);
    }
  }

  /** Flushes what was held back (the console ended without the marker). */
  end(): void {
    if (!this.done && this.held) this.output(this.held);
    this.held = "";
  }

  /** The last lines of the console, for error reports. */
  lastLines(count: number): string {
    return this.tail.replaceAll("\r", "").split("\n").slice(-count).join("\n");
  }

  private output(text: string): void {
    if (text) this.emit(Buffer.from(text, "latin1"));
  }
}
