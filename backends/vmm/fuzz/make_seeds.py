#!/usr/bin/env python3
"""Writes seed inputs for the VMM fuzzers: 64 KiB guest-RAM images (see fuzz_memory.h) holding
well-formed split queues, so libFuzzer starts from valid descriptor chains, block requests and
vsock packets and mutates from there instead of from random bytes.

Usage: make_seeds.py <corpus-root>   (creates <root>/<target>/seed-*)"""
import os
import struct
import sys

RAM = 64 * 1024
QSIZE = 16


def queue_base(i):
    return i * 0x400


class Image:
    def __init__(self):
        self.ram = bytearray(RAM)
        self.next_desc = {}
        self.avail_idx = {}

    def put(self, addr, data):
        self.ram[addr:addr + len(data)] = data

    def chain(self, q, buffers):
        """buffers: list of (addr, len, writable). Adds one chain to queue q and publishes it."""
        base = queue_base(q)
        first = self.next_desc.get(q, 0)
        for k, (addr, length, writable) in enumerate(buffers):
            idx = (first + k) % QSIZE
            flags = (1 if k + 1 < len(buffers) else 0) | (2 if writable else 0)
            self.put(base + 16 * idx, struct.pack("<QIHH", addr, length, flags, (idx + 1) % QSIZE))
        self.next_desc[q] = (first + len(buffers)) % QSIZE
        a = self.avail_idx.get(q, 0)
        self.put(base + 0x100 + 4 + 2 * (a % QSIZE), struct.pack("<H", first))
        self.avail_idx[q] = a + 1
        self.put(base + 0x100 + 2, struct.pack("<H", a + 1))


def write(root, target, name, image):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(bytes(image.ram))


def vsock_packet(op, src_port, dst_port, payload=b"", flags=0, src_cid=3, dst_cid=2):
    return struct.pack("<QQIIIHHIII", src_cid, dst_cid, src_port, dst_port, len(payload), 1, op, flags,
                       65536, 0) + payload


def main(root):
    # Descriptor chains: readable + writable mixes.
    img = Image()
    img.chain(0, [(0x2000, 64, False), (0x3000, 128, True)])
    img.chain(0, [(0x4000, 16, False), (0x4100, 16, False), (0x5000, 512, True), (0x5400, 1, True)])
    write(root, "fuzz_descriptor_chain", "mixed", img)

    # Block requests: write, flush, read, get-id, bad sector.
    img = Image()
    for i, (typ, sector, data_len, writable) in enumerate(
            [(1, 2, 1024, False), (4, 0, 0, False), (0, 2, 1024, True), (8, 0, 20, True), (0, 1 << 40, 512, True)]):
        hdr = 0x2000 + i * 0x40
        img.put(hdr, struct.pack("<IIQ", typ, 0, sector))
        bufs = [(hdr, 16, False)]
        if data_len:
            bufs.append((0x4000 + i * 0x800, data_len, writable))
        bufs.append((0x3000 + i, 1, True))
        img.chain(0, bufs)
    write(root, "fuzz_block_request", "requests", img)

    # vsock: RX buffers on queue 0, TX packets on queue 1 (REQUEST to the listener at port 1024,
    # data, credit request, shutdown, RESPONSE to a host-initiated stream, RST).
    img = Image()
    for i in range(8):
        img.chain(0, [(0x8000 + i * 0x800, 0x800, True)])
    packets = [vsock_packet(1, 5000, 1024), vsock_packet(5, 5000, 1024, b"hello"), vsock_packet(7, 5000, 1024),
               vsock_packet(4, 5000, 1024, flags=3), vsock_packet(2, 1024, 1 << 30), vsock_packet(3, 6000, 1024)]
    for i, p in enumerate(packets):
        addr = 0x2000 + i * 0x100
        img.put(addr, p)
        img.chain(1, [(addr, 44, False), (addr + 44, len(p) - 44, False)] if len(p) > 44 else [(addr, 44, False)])
    img.ram[0] = 1  # odd first byte: the target also opens a host-side CONNECT stream
    write(root, "fuzz_vsock_packets", "session", img)


if __name__ == "__main__":
    main(sys.argv[1])
