/**
 * `moat policy show | check [FILE] | test --host H [--ip] [--port] [--method] [--path]`: thin wrappers
 * over @moat/policy's policyShow / policyCheck / policyTest, which hold the logic and return text,
 * JSON and the exit code (0 ok or allowed, 1 denied, 2 validation errors or bad input).
 */
import { resolve } from "node:path";
import { Command } from "commander";
import { findProjectPolicy, nodePolicyFs, policyCheck, policyShow, policyTest, type CommandResult, type PolicyFlags } from "@moat/policy";
import type { CliContext } from "../context.js";
import { invocationDir } from "../sandbox/options.js";

function emit(context: CliContext, result: CommandResult, json: boolean | undefined): void {
  context.stdout(json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
  process.exitCode = result.exitCode;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The policy flags shared with `run`/`create` (highest layer). */
function withPolicyFlags(command: Command): Command {
  return command
    .option("--allow-host <pattern>", "allow a host, pattern or CIDR (repeatable)", collect)
    .option("--deny-host <pattern>", "deny a host, pattern or CIDR (repeatable)", collect)
    .option("--network-preset <preset>", "open | balanced | locked")
    .option("--network-default <verdict>", "allow | deny")
    .option("--mount <host:guest[:ro|rw]>", "add a mount (repeatable)", collect)
    .option("--allow-broad", "allow read-write mounts of / or the home directory");
}

interface FlagOptions {
  allowHost?: string[];
  denyHost?: string[];
  networkPreset?: string;
  networkDefault?: string;
  mount?: string[];
  allowBroad?: boolean;
  json?: boolean;
}

function flagsOf(o: FlagOptions): PolicyFlags {
  return {
    ...(o.allowHost ? { allowHost: o.allowHost } : {}),
    ...(o.denyHost ? { denyHost: o.denyHost } : {}),
    ...(o.networkPreset ? { networkPreset: o.networkPreset } : {}),
    ...(o.networkDefault ? { networkDefault: o.networkDefault } : {}),
    ...(o.mount ? { mount: o.mount } : {}),
    ...(o.allowBroad ? { allowBroad: true } : {}),
  };
}

export function policyCommand(context: CliContext): Command {
  const policy = new Command("policy").description("show, check and test the sandbox policy (files, network, secrets, resources)");
  policy.addCommand(
    withPolicyFlags(new Command("show"))
      .description("print the effective policy (defaults < ~/.config/moat/policy.yaml < .moat/policy.yaml < flags) with where each entry came from")
      .option("--json", "print JSON")
      .action((o: FlagOptions) => emit(context, policyShow({ cwd: invocationDir(context.env), env: context.env, flags: flagsOf(o) }), o.json)),
  );
  policy.addCommand(
    new Command("check")
      .description("validate a policy file, reporting every problem with its line and column (exit 2 on errors)")
      .argument("[file]", "policy file (YAML or JSON; default: the project's .moat/policy.yaml, here or in a parent)")
      .option("--json", "print JSON")
      .option("--no-host-checks", "do not check the file's mounts on this host")
      .action((file: string | undefined, o: { json?: boolean; hostChecks: boolean }) => {
        const here = invocationDir(context.env);
        const path = file !== undefined ? resolve(here, file) : findProjectPolicy(here, nodePolicyFs)?.file;
        if (path === undefined) {
          // No project file is a normal setup: the built-in defaults (and the user file) apply.
          const text = `no .moat/policy.yaml in ${here} or a parent: nothing to check (moat policy show prints the policy in effect)`;
          return emit(context, { exitCode: 0, text, json: { ok: true, file: null, diagnostics: [] } }, o.json);
        }
        emit(context, policyCheck(path, { env: context.env, hostChecks: o.hostChecks }), o.json);
      }),
  );
  policy.addCommand(
    withPolicyFlags(new Command("test"))
      .description("explain the network decision for one request (exit 0 allowed, 1 denied)")
      .option("--host <name>", "host name the guest asks for")
      .option("--ip <address>", "IP address dialled (with --host: the address the name resolved to)")
      .option("--port <n>", "port", "443")
      .option("--method <method>", "HTTP method")
      .option("--path <path>", "HTTP path")
      .option("--json", "print JSON")
      .action((o: FlagOptions & { host?: string; ip?: string; port: string; method?: string; path?: string }) =>
        emit(
          context,
          policyTest(
            { ...(o.host ? { host: o.host } : {}), ...(o.ip ? { ip: o.ip } : {}), port: o.port, ...(o.method ? { method: o.method } : {}), ...(o.path ? { path: o.path } : {}) },
            { cwd: invocationDir(context.env), env: context.env, flags: flagsOf(o) },
          ),
          o.json,
        ),
      ),
  );
  return policy;
}
