/**
 * Two in-memory Duplex streams wired back to back: what one writes, the other reads; ending one
 * side's writes ends the other's reads; destroying one side ends (or, with an error, destroys) the other.
 * For backends and hosts that carry a guest port in memory (the fake backend, in-process callers of
 * a relayed agent connection).
 */
import { Duplex } from "node:stream";

export function createDuplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const eofSent = [false, false];
  const sendEof = (to: number) => {
    if (!eofSent[to]) {
      eofSent[to] = true;
      sides[to]!.push(null);
    }
  };
  const make = (self: number) => {
    const peer = 1 - self;
    return new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        if (!eofSent[peer]) sides[peer]!.push(chunk);
        done();
      },
      final(done) {
        sendEof(peer);
        done();
      },
      destroy(error, done) {
        const other = sides[peer]!;
        if (error && !other.destroyed) other.destroy(error);
        else sendEof(peer);
        done(error);
      },
    });
  };
  sides.push(make(0), make(1));
  return [sides[0]!, sides[1]!];
}
