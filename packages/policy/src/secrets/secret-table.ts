/**
 * The secret injection table. The guest only ever sees each secret's placeholder (as an environment
 * variable of the secret's name); the egress layer, on a request to a bound host, either sets the
 * configured header to `format` with the real value, or replaces the placeholder in the request's
 * headers. Values are read from the host (env var or file) only when the egress layer asks.
 */
import { isAbsolute, join, resolve } from "node:path";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { EffectivePolicy, SecretSource } from "../model/policy.js";
import type { Origin } from "../model/origin.js";
import { hostMatches, normalizeHost, type HostPattern } from "../network/host.js";
import type { PolicyFs } from "../files/policy-fs.js";
import type { NetworkPlan } from "../compile/network.js";

export interface SecretEntry {
  name: string;
  from: SecretSource;
  hosts: HostPattern[];
  /** Header to set; absent = replace `placeholder` wherever it appears in request headers. */
  header?: string;
  format: string;
  placeholder: string;
  origin: Origin;
}

export interface SecretContext {
  env: Readonly<Record<string, string | undefined>>;
  fs: PolicyFs;
  homeDir: string;
  baseDir: string;
}

export interface SecretTable {
  entries: readonly SecretEntry[];
  /** Secrets that may be sent to this host. */
  forHost(host: string): SecretEntry[];
  /** What the guest's environment gets: name → placeholder. */
  guestEnv(): Record<string, string>;
  /** Reads the value from the host. Throws an error naming the variable or file when it is absent. */
  value(entry: SecretEntry): string;
  /**
   * Applies the secrets bound to `host` to one HTTP request's headers (names compared
   * case-insensitively): header secrets set their header to `format` with the value; placeholder
   * secrets replace their placeholder in every header value. Placeholders of secrets *not* bound to
   * this host are left as they are and reported in `unbound` (the guest tried to send one elsewhere).
   */
  inject(host: string, headers: Readonly<Record<string, string>>): InjectionResult;
}

export interface InjectionResult {
  headers: Record<string, string>;
  /** Names of the secrets applied. */
  injected: string[];
  /** Names of secrets whose placeholder appeared in a request to a host they are not bound to. */
  unbound: string[];
}

function filePath(p: string, ctx: SecretContext): string {
  const e = p === "~" ? ctx.homeDir : p.startsWith("~/") ? join(ctx.homeDir, p.slice(2)) : p;
  return isAbsolute(e) ? e : resolve(ctx.baseDir, e);
}

function readSource(from: SecretSource, ctx: SecretContext): string | null {
  if ("env" in from) return ctx.env[from.env] ?? null;
  const text = ctx.fs.readFile(filePath(from.file, ctx));
  return text === null ? null : text.replace(/\r?\n$/, "");
}

function describeSource(from: SecretSource, ctx: SecretContext): string {
  return "env" in from ? `environment variable ${from.env}` : `file ${filePath(from.file, ctx)}`;
}

export function compileSecrets(policy: EffectivePolicy, network: NetworkPlan, ctx: SecretContext, bag: DiagnosticBag, checkSources = true): SecretTable {
  const entries: SecretEntry[] = policy.secrets.map((s) => ({
    name: s.name,
    from: s.from,
    hosts: s.hosts.map((h) => h.pattern),
    ...(s.header ? { header: s.header } : {}),
    format: s.format,
    placeholder: s.placeholder,
    origin: s.origin,
  }));
  for (const s of policy.secrets) {
    const at = { file: s.origin.file, ...(s.origin.line !== undefined ? { line: s.origin.line, column: s.origin.column } : {}), path: s.path };
    if (checkSources && readSource(s.from, ctx) === null)
      bag.error("secret-unavailable", `secret "${s.name}": ${describeSource(s.from, ctx)} is not set`, at, "export the variable (or create the file) before starting the sandbox, or remove the secret");
    for (const h of s.hosts) {
      if (h.pattern.kind !== "exact") continue;
      if (network.decide({ host: h.pattern.name, port: 443 }).verdict === "deny")
        bag.warning("secret-host-denied", `secret "${s.name}" is bound to ${h.text}, which the network policy denies on port 443`, at, `allow it: network.allow: ["${h.text}:443"]`);
    }
  }
  return {
    entries,
    forHost(host) {
      const h = normalizeHost(host);
      return h === null ? [] : entries.filter((e) => e.hosts.some((p) => hostMatches(p, h)));
    },
    guestEnv() {
      return Object.fromEntries(entries.map((e) => [e.name, e.placeholder]));
    },
    value(entry) {
      const v = readSource(entry.from, ctx);
      if (v === null) throw new Error(`secret "${entry.name}": ${describeSource(entry.from, ctx)} is not set — export it or create it`);
      return v;
    },
    inject(host, headers) {
      const bound = this.forHost(host);
      const out: Record<string, string> = { ...headers };
      const injected: string[] = [];
      for (const e of bound) {
        const value = this.value(e);
        if (e.header !== undefined) {
          for (const k of Object.keys(out)) if (k.toLowerCase() === e.header.toLowerCase()) delete out[k];
          out[e.header] = e.format.split("{value}").join(value);
          injected.push(e.name);
        } else {
          let hit = false;
          for (const [k, v] of Object.entries(out)) {
            if (!v.includes(e.placeholder)) continue;
            out[k] = v.split(e.placeholder).join(value);
            hit = true;
          }
          if (hit) injected.push(e.name);
        }
      }
      const boundNames = new Set(bound.map((e) => e.name));
      const unbound = entries.filter((e) => !boundNames.has(e.name) && Object.values(headers).some((v) => v.includes(e.placeholder))).map((e) => e.name);
      return { headers: out, injected, unbound };
    },
  };
}
