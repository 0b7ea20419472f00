/**
 * Parses the `network` section: preset, default, directIp and the allow/deny rule lists (shorthand
 * strings or objects with ports, methods and paths). Also reports contradictory rules.
 */
import type { PolicyLayer } from "../model/policy.js";
import {
  parseMethod,
  parsePathGlob,
  parsePortRange,
  parseRuleTarget,
  formatRule,
  type NetworkRuleSpec,
  type PortRange,
  type Verdict,
} from "../network/rule.js";
import { NETWORK_KEYS, PRESETS, RULE_KEYS, VERDICTS } from "./keys.js";
import type { AnyNode, Walker } from "./walker.js";
import { isScalar } from "yaml";

const RULE_EXAMPLE = 'write a host ("api.example.com", "*.example.com:443", "10.0.0.0/8") or a mapping {host, ports, methods, paths}';

function parsePorts(w: Walker, node: AnyNode, path: string): PortRange[] | null {
  const ports: PortRange[] = [];
  w.seqOrOne(node).forEach((item, i) => {
    const p = w.text(item, `${path}[${i}]`, 'a port like 443 or a range like "8000-8100"');
    if (p === null) return;
    const r = parsePortRange(p);
    if (!r.ok) w.error("invalid-port", item, `${path}[${i}]`, r.message, r.hint);
    else ports.push(r.value);
  });
  return ports;
}

function parseRule(w: Walker, node: AnyNode, action: Verdict, path: string): NetworkRuleSpec | null {
  let targetNode: AnyNode = node;
  let ports: PortRange[] | null = null;
  let methods: string[] | null = null;
  let paths: string[] | null = null;
  if (!isScalar(node)) {
    const m = w.map(node, path, RULE_KEYS, RULE_EXAMPLE);
    if (!m) return null;
    const host = m.get("host");
    if (!host) {
      w.error("missing-key", node, path, `${path} has no "host"`, RULE_EXAMPLE);
      return null;
    }
    targetNode = host.value;
    if (m.has("ports")) ports = parsePorts(w, m.get("ports")!.value, `${path}.ports`);
    if (m.has("methods")) {
      methods = [];
      w.seqOrOne(m.get("methods")!.value).forEach((item, i) => {
        const s = w.string(item, `${path}.methods[${i}]`);
        if (s === null) return;
        const r = parseMethod(s);
        if (!r.ok) w.error("invalid-method", item, `${path}.methods[${i}]`, r.message, r.hint);
        else methods!.push(r.value);
      });
    }
    if (m.has("paths")) {
      paths = [];
      w.seqOrOne(m.get("paths")!.value).forEach((item, i) => {
        const s = w.string(item, `${path}.paths[${i}]`);
        if (s === null) return;
        const r = parsePathGlob(s);
        if (!r.ok) w.error("invalid-path", item, `${path}.paths[${i}]`, r.message, r.hint);
        else paths!.push(r.value);
      });
    }
    if (m.has("comment")) w.string(m.get("comment")!.value, `${path}.comment`);
  }
  const text = w.text(targetNode, isScalar(node) ? path : `${path}.host`, RULE_EXAMPLE);
  if (text === null) return null;
  const t = parseRuleTarget(text);
  if (!t.ok) {
    const code = /^invalid CIDR/.test(t.message) ? "invalid-cidr" : / is not a port/.test(t.message) ? "invalid-port" : "invalid-host-pattern";
    w.error(code, targetNode, path, t.message, t.hint);
    return null;
  }
  if (t.warning) w.warning("broad-pattern", targetNode, path, t.warning, "name the registrable domain, e.g. *.example.com");
  if (t.value.ports && ports) {
    w.error("duplicate-ports", targetNode, path, `${path} gives ports both in "${text}" and in "ports"`, "keep one of them");
    return null;
  }
  return {
    action,
    ...(t.value.host ? { host: t.value.host } : {}),
    ...(t.value.cidr ? { cidr: t.value.cidr } : {}),
    ports: ports ?? t.value.ports,
    methods: methods && methods.length > 0 ? methods : null,
    paths: paths && paths.length > 0 ? paths : null,
    origin: w.origin(targetNode),
    path,
  };
}

export function parseNetworkSection(w: Walker, node: AnyNode, layer: PolicyLayer): void {
  const m = w.map(node, "network", NETWORK_KEYS);
  if (!m) return;
  const scalar = <T extends string>(key: string, values: readonly T[]) => {
    const e = m.get(key);
    if (!e) return undefined;
    const v = w.oneOf(e.value, `network.${key}`, values);
    return v === null ? undefined : { value: v, origin: w.origin(e.value), path: `network.${key}` };
  };
  const preset = scalar("preset", PRESETS);
  if (preset) layer.network.preset = preset;
  const def = scalar("default", VERDICTS);
  if (def) layer.network.default = def;
  const direct = scalar("directIp", VERDICTS);
  if (direct) layer.network.directIp = direct;
  for (const action of VERDICTS) {
    const e = m.get(action);
    if (!e) continue;
    const items = w.seq(e.value, `network.${action}`, RULE_EXAMPLE);
    items?.forEach((item, i) => {
      const rule = parseRule(w, item, action, `network.${action}[${i}]`);
      if (rule) layer.network.rules.push(rule);
    });
  }
}

/** Key identifying what a rule matches, ignoring its action (for contradiction/duplicate checks). */
export function ruleMatchKey(r: NetworkRuleSpec): string {
  return formatRule({ ...r, action: "allow", methods: r.methods ? [...r.methods].sort() : null, paths: r.paths ? [...r.paths].sort() : null });
}
