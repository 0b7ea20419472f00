/**
 * The published JSON Schema (schema/policy.schema.json) agrees with the validator: the shipped
 * examples pass both, typical type errors fail both, and every mapping lists the same keys.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { describe, expect, test } from "vitest";
import { parsePolicyText, policyKeys } from "@moat/policy";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const schema = JSON.parse(readFileSync(here("../schema/policy.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function bothAgree(text: string): { schemaOk: boolean; validatorOk: boolean } {
  const schemaOk = validate(parseYaml(text) ?? {}) as boolean;
  const validatorOk = !parsePolicyText(text, "x.yaml").bag.hasErrors();
  return { schemaOk, validatorOk };
}

describe("JSON Schema", () => {
  test.each(["../examples/project-policy.yaml", "../examples/project-policy.json"])("example %s is valid for both", (file) => {
    const text = readFileSync(here(file), "utf8");
    expect(bothAgree(text)).toEqual({ schemaOk: true, validatorOk: true });
  });

  test.each(["files: {mounts: [{host: ./data}]}", "files: {mounts: [{host: ., guest: /mnt/proj, mode: rw}]}"])("%s is accepted by both", (text) => {
    expect(bothAgree(text)).toEqual({ schemaOk: true, validatorOk: true });
  });

  test.each([
    "netwrk: {}",
    "network: {preset: strict}",
    "network: {allow: [{ports: [443]}]}",
    "network: {allow: [{host: a.test, color: red}]}",
    "files: {mounts: [{guest: /mnt/x}]}",
    "files: {mounts: [{host: ., guest: /w, mode: rwx}]}",
    "files: {allowBroad: 1}",
    "secrets: {K: {env: K}}",
    "secrets: {K: {hosts: [a.test]}}",
    "secrets: {K: {env: K, hosts: [], header: X}}",
    "secrets: {K: {value: v, hosts: [a.test]}}",
    "secrets: {K: {env: K, hosts: [a.test], format: Bearer}}",
    "resources: {cpus: 0}",
    "resources: {cpus: 2.5}",
    "resources: {memory: lots}",
    "version: 2",
  ])("%s is rejected by both", (text) => {
    expect(bothAgree(text)).toEqual({ schemaOk: false, validatorOk: false });
  });

  test("every mapping lists the validator's keys", () => {
    const props = (o: { properties: Record<string, unknown> }) => Object.keys(o.properties).sort();
    expect(props(schema)).toEqual([...policyKeys.TOP_KEYS].sort());
    expect(props(schema.properties.files)).toEqual([...policyKeys.FILES_KEYS].sort());
    expect(props(schema.properties.files.properties.mounts.items)).toEqual([...policyKeys.MOUNT_KEYS].sort());
    expect(props(schema.properties.network)).toEqual([...policyKeys.NETWORK_KEYS].sort());
    expect(props(schema.definitions.rules.items.oneOf[1])).toEqual([...policyKeys.RULE_KEYS].sort());
    expect(props(schema.properties.secrets.additionalProperties)).toEqual([...policyKeys.SECRET_KEYS].sort());
    expect(props(schema.properties.resources)).toEqual([...policyKeys.RESOURCES_KEYS].sort());
    expect(schema.properties.network.properties.preset.enum).toEqual([...policyKeys.PRESETS]);
  });
});
