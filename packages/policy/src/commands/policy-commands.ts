/**
 * The logic of `moat policy show | check | test`, returning text, JSON and an exit code.
 */
import { homedir } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { DiagnosticBag, sortDiagnostics } from "../diagnostics/diagnostic.js";
import { formatDiagnostics } from "../diagnostics/format.js";
import { nodePolicyFs, type PolicyFs } from "../files/policy-fs.js";
import { compilePlan } from "../compile/plan.js";
import { builtinLayer } from "../layering/builtin.js";
import { loadEffectivePolicy, type LoadOptions } from "../layering/load.js";
import { mergeLayers } from "../layering/merge.js";
import { parsePolicyText } from "../parse/policy-file.js";
import { formatIp, parseIp } from "../network/ip.js";
import type { CommandResult } from "./result.js";
import { describePolicy, policyToJson } from "./describe.js";

function sourcesOf(files: readonly { path: string; text: string }[]): Map<string, string> {
  return new Map(files.map((f) => [f.path, f.text]));
}

/** `moat policy show`: the effective policy with the origin of every entry. */
export function policyShow(options: LoadOptions): CommandResult {
  const r = loadEffectivePolicy(options);
  const header = ["# layers: builtin defaults", ...r.files.map((f) => `${f.kind} ${f.path}`), "flags"].join(" < ");
  const described = [header, describePolicy(r.policy, r.plan.mounts)];
  const diagnostics = r.diagnostics.length > 0 ? [formatDiagnostics(r.diagnostics, sourcesOf(r.files))] : [];
  // A policy that does not hold is never in effect: its errors come first, and what parsed is labelled as such.
  const parts = r.ok ? [...described, ...diagnostics] : [...diagnostics, "# NOT IN EFFECT (the errors above refuse every sandbox); what parsed, for reference:", ...described];
  return {
    exitCode: r.ok ? 0 : 2,
    text: parts.join("\n"),
    json: { ok: r.ok, layers: r.files.map((f) => ({ kind: f.kind, path: f.path })), policy: policyToJson(r.policy, r.plan.mounts), diagnostics: r.diagnostics },
  };
}

export interface CheckOptions {
  fs?: PolicyFs;
  homeDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Check the file's mounts on this host too (default true). */
  hostChecks?: boolean;
}

/**
 * `moat policy check FILE`: validates one file on top of the built-in defaults, reporting every
 * problem with its position. Secret sources are not required to exist at check time.
 */
export function policyCheck(file: string, options: CheckOptions = {}): CommandResult {
  const fs = options.fs ?? nodePolicyFs;
  const path = resolve(file);
  const bag = new DiagnosticBag();
  const text = fs.readFile(path);
  if (text === null) {
    if (fs.lstat(path)) bag.error("unreadable-policy", `cannot read ${path}`, { file: path }, "check the file's permissions");
    else bag.error("unreadable-policy", `no such file: ${path}`, { file: path }, "check the path (without a file, moat policy check finds the project's .moat/policy.yaml)");
    return { exitCode: 2, text: formatDiagnostics(bag.items), json: { ok: false, file: path, diagnostics: bag.items } };
  }
  const layer = parsePolicyText(text, path, "file", bag).layer;
  if (!bag.hasErrors()) {
    const dir = dirname(path);
    const baseDir = basename(dir) === ".moat" ? dirname(dir) : dir;
    const policy = mergeLayers([builtinLayer(), layer]);
    compilePlan(policy, { fs, homeDir: options.homeDir ?? homedir(), baseDir, env: options.env ?? process.env, hostChecks: options.hostChecks ?? true, secretSources: false }, bag);
  }
  const diagnostics = sortDiagnostics(bag.items);
  const ok = !bag.hasErrors();
  const summary = formatDiagnostics(diagnostics, new Map([[path, text]]));
  return { exitCode: ok ? 0 : 2, text: ok && diagnostics.length === 0 ? `${path}: ok` : summary, json: { ok, file: path, diagnostics } };
}

export interface TestRequest {
  host?: string;
  ip?: string;
  port?: number | string;
  method?: string;
  path?: string;
}

/** `moat policy test --host H [--ip] [--port] [--method] [--path]`: explains one decision. */
export function policyTest(request: TestRequest, options: LoadOptions): CommandResult {
  const port = request.port === undefined ? 443 : Number(request.port);
  if (!request.host && !request.ip) return { exitCode: 2, text: "policy test: give --host or --ip", json: { ok: false, error: "give --host or --ip" } };
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return { exitCode: 2, text: `policy test: --port ${String(request.port)} is not in 1..65535`, json: { ok: false, error: "bad port" } };
  if (request.ip && !parseIp(request.ip)) return { exitCode: 2, text: `policy test: --ip ${request.ip} is not an IP address`, json: { ok: false, error: "bad ip" } };
  const r = loadEffectivePolicy({ ...options, hostChecks: false });
  if (!r.ok) return { exitCode: 2, text: formatDiagnostics(r.diagnostics, sourcesOf(r.files)), json: { ok: false, diagnostics: r.diagnostics } };
  const req = {
    ...(request.host ? { host: request.host } : {}),
    ...(request.ip ? { ip: request.ip } : {}),
    port,
    ...(request.method ? { method: request.method } : {}),
    ...(request.path ? { path: request.path } : {}),
  };
  const d = r.plan.network.decide(req);
  const target = `${request.host ?? formatIp(parseIp(request.ip!)!)}${request.ip && request.host ? ` (${request.ip})` : ""}:${port}${request.method ? ` ${request.method.toUpperCase()}` : ""}${request.path ? ` ${request.path}` : ""}`;
  const lines = [`${d.verdict.toUpperCase()} ${target}`, `  reason: ${d.reason}`];
  if (d.inspect) lines.push("  inspect: yes — HTTP requests on this connection are decided one by one");
  const dns = request.host && !parseIp(request.host) ? r.plan.network.mayResolve(request.host) : null;
  if (dns) lines.push(`  dns: ${dns.reason}`);
  const secrets = request.host && d.verdict === "allow" ? r.plan.secrets.forHost(request.host) : [];
  for (const s of secrets) lines.push(`  secret ${s.name}: ${s.header ? `sets header ${s.header}` : `replaces placeholder ${s.placeholder}`}`);
  return {
    exitCode: d.verdict === "allow" ? 0 : 1,
    text: lines.join("\n"),
    json: {
      verdict: d.verdict,
      reason: d.reason,
      inspect: d.inspect,
      rule: d.rule ? { text: d.rule.text, origin: d.rule.origin, path: d.rule.path } : null,
      secrets: secrets.map((s) => s.name),
      dns,
    },
  };
}
