/**
 * The per-decision IP parsers against ipaddr.js: every valid IPv4/IPv6 text parses to the same
 * address, IPv4-mapped forms fold to IPv4, and malformed text is refused. Plus CIDR parsing.
 */
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, test } from "vitest";
import { formatCidr, formatIp, parseCidr, parseIp } from "@moat/policy";

describe("IP parsing", () => {
  test("IPv6 text parses like ipaddr.js (property)", () => {
    fc.assert(
      fc.property(fc.ipV6().filter((t) => !/^::\d+\./.test(t)), (text) => {
        // ipaddr.js reads the deprecated ::a.b.c.d as ::ffff:a.b.c.d; that form is tested below.
        const ours = parseIp(text);
        const ref = ipaddr.IPv6.parse(text);
        expect(ours).not.toBeNull();
        const p = ref.parts;
        const compat = p.slice(0, 6).every((x) => x === 0) && p[6]! > 0;
        const expected = ref.isIPv4MappedAddress() || compat ? `${p[6]! >> 8}.${p[6]! & 255}.${p[7]! >> 8}.${p[7]! & 255}` : ref.toRFC5952String();
        expect(formatIp(ours!)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  test("IPv4 text parses like ipaddr.js (property)", () => {
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        expect(formatIp(parseIp(text)!)).toBe(ipaddr.IPv4.parse(text).toString());
      }),
    );
  });

  test.each(["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "1:", ":1", "::1.2.3", "::256.1.1.1", "1.2.3.4.5", "01.2.3.4", "1.2.3", "::ffff:1.2.3.4:1", "1:2:3:4:5:6:7:8::"])(
    "%j is not an address",
    (text) => {
      expect(parseIp(text)).toBeNull();
    },
  );

  test.each([
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::FFFF:0102:0304", "1.2.3.4"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
    ["::10.0.0.1", "10.0.0.1"],
    ["::a00:1", "10.0.0.1"],
    ["::ffff", "::ffff"],
    ["[fe80::1%eth0]", "fe80::1"],
  ])("%s parses to %s", (text, expected) => {
    expect(formatIp(parseIp(text)!)).toBe(expected);
  });

  test("CIDR parsing", () => {
    const ok = (t: string) => {
      const c = parseCidr(t);
      if (!c.ok) throw new Error(c.message);
      return formatCidr(c.cidr);
    };
    expect(ok("10.0.0.0/8")).toBe("10.0.0.0/8");
    expect(ok("0.0.0.0/0")).toBe("0.0.0.0/0");
    expect(ok("::/0")).toBe("::/0");
    expect(ok("1.2.3.4")).toBe("1.2.3.4/32");
    expect(ok("::ffff:10.0.0.0/104")).toBe("10.0.0.0/8");
    expect(parseCidr("10.0.0.0/-1").ok).toBe(false);
    expect(parseCidr("10.0.0/8").ok).toBe(false);
    expect(parseCidr("fe80::1%eth0/64").ok).toBe(false);
  });
});
