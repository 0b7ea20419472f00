/**
 * @moat/policy — parse, validate, layer and compile moat policies (files, network, secrets,
 * resources) into the Plan the runtime enforces. See README.md for the file format.
 */
export { DiagnosticBag, sortDiagnostics, type Diagnostic, type Severity, type SourceLocation } from "./diagnostics/diagnostic.js";
export { formatDiagnostic, formatDiagnostics } from "./diagnostics/format.js";
export { describeOrigin, type Origin, type OriginKind, type Located } from "./model/origin.js";
export type { EffectivePolicy, PolicyLayer, MountSpec, SecretSpec, GlobSpec, PresetName, MountMode, LinkRule, SecretSource } from "./model/policy.js";
export { parsePolicyText, type ParsedPolicyFile } from "./parse/policy-file.js";
export * as policyKeys from "./parse/keys.js";
export { normalizeHost, parseHostPattern, hostMatches, formatHostPattern, type HostPattern } from "./network/host.js";
export { parseIp, parseCidr, cidrContains, formatIp, formatCidr, type Ip, type Cidr } from "./network/ip.js";
export { parseRuleTarget, finishRule, formatRule, type NetworkRule, type NetworkRuleSpec, type Verdict, type PortRange } from "./network/rule.js";
export { normalizeRequest, type NetworkRequest, type Decision, type NetworkDefaults, type ResolveDecision } from "./network/decision.js";
export { IndexedMatcher } from "./network/matcher.js";
export { LinearMatcher } from "./network/linear-matcher.js";
export { PRESETS, type PresetDefinition } from "./network/presets.js";
export { nodePolicyFs, type PolicyFs, type FileInfo } from "./files/policy-fs.js";
export { compileMounts, sensitiveAreas, type MountEntry, type MountContext } from "./files/mount-table.js";
export { compileSecrets, type SecretEntry, type SecretTable, type InjectionResult } from "./secrets/secret-table.js";
export { compileNetwork, type NetworkPlan, type ConnectionRequest } from "./compile/network.js";
export { compilePlan, type Plan, type CompileOptions } from "./compile/plan.js";
export { builtinLayer } from "./layering/builtin.js";
export { flagsLayer, type PolicyFlags } from "./layering/flags.js";
export { mergeLayers } from "./layering/merge.js";
export { loadEffectivePolicy, findProjectPolicy, userPolicyDir, type LoadOptions, type LoadResult } from "./layering/load.js";
export { parseSizeMiB, formatMiB } from "./resources/size.js";
export { RESOURCE_LIMITS } from "./resources/limits.js";
export { policyShow, policyCheck, policyTest, type CheckOptions, type TestRequest } from "./commands/policy-commands.js";
export type { CommandResult } from "./commands/result.js";
