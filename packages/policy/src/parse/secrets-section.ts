/**
 * Parses the `secrets` section. A secret names where its value lives on the host (`env` or `file`,
 * never the value itself), the hosts it may be sent to, and how it is injected: as a header
 * (`header` + `format`) or by replacing its placeholder in outgoing request headers.
 */
import type { PolicyLayer, SecretSpec } from "../model/policy.js";
import { parseHostPattern } from "../network/host.js";
import { SECRET_KEYS } from "./keys.js";
import type { AnyNode, Walker } from "./walker.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const SECRET_EXAMPLE = "e.g. OPENAI_API_KEY: {env: OPENAI_API_KEY, hosts: [api.openai.com], header: Authorization, format: \"Bearer {value}\"}";

function parseSecret(w: Walker, name: string, keyNode: AnyNode, node: AnyNode): SecretSpec | null {
  const path = `secrets.${name}`;
  let ok = true;
  if (!NAME.test(name)) {
    w.error("invalid-secret-name", keyNode, path, `secret name "${name}" is not a valid environment variable name`, "use letters, digits and _ (e.g. GITHUB_TOKEN)");
    ok = false;
  }
  const m = w.map(node, path, [...SECRET_KEYS, "value"], SECRET_EXAMPLE);
  if (!m) return null;
  if (m.has("value")) {
    w.error("secret-value-in-policy", m.get("value")!.key, `${path}.value`, `secret "${name}" has its value written in the policy file`, `remove it and point to it instead: env: ${name} (an environment variable) or file: ~/.config/moat/secrets/${name}`);
    ok = false;
  }
  const env = m.get("env");
  const file = m.get("file");
  let from: SecretSpec["from"] | null = null;
  if (env && file) {
    w.error("secret-source", file.key, path, `secret "${name}" has both "env" and "file"`, "keep one source");
    ok = false;
  } else if (env) {
    const v = w.string(env.value, `${path}.env`);
    // The text is not echoed: a value that is not a variable name may be the secret itself.
    if (v !== null && !NAME.test(v))
      w.error("invalid-env-name", env.value, `${path}.env`, `${path}.env is not an environment variable name (${v.length} characters, not shown in case it is the secret itself)`, "name the variable that holds the value, e.g. env: OPENAI_API_KEY");
    else if (v !== null) from = { env: v };
  } else if (file) {
    const v = w.string(file.value, `${path}.file`);
    if (v !== null) from = { file: v };
  } else if (!m.has("value")) {
    w.error("secret-source", keyNode, path, `secret "${name}" says neither "env" nor "file"`, "add env: VARIABLE or file: /path/to/secret");
    ok = false;
  }
  const hosts: SecretSpec["hosts"] = [];
  const hostsEntry = m.get("hosts");
  if (!hostsEntry) {
    w.error("secret-no-host", keyNode, path, `secret "${name}" is bound to no host`, `add hosts: [api.example.com] — a secret is only ever sent to the hosts it is bound to`);
    ok = false;
  } else {
    const items = w.seqOrOne(hostsEntry.value);
    if (items.length === 0) {
      w.error("secret-no-host", hostsEntry.value, `${path}.hosts`, `secret "${name}" is bound to no host (empty list)`, "list the hosts it may be sent to");
      ok = false;
    }
    items.forEach((item, i) => {
      const p = `${path}.hosts[${i}]`;
      const t = w.string(item, p);
      if (t === null) return;
      const h = parseHostPattern(t);
      if (!h.ok) w.error("invalid-host-pattern", item, p, h.message, h.hint);
      else {
        if (h.broad) w.warning("broad-pattern", item, p, h.broad, "bind a secret to the exact API host");
        hosts.push({ pattern: h.pattern, text: t });
      }
    });
  }
  let header: string | undefined;
  const headerEntry = m.get("header");
  if (headerEntry) {
    const v = w.string(headerEntry.value, `${path}.header`);
    if (v !== null && !HEADER.test(v)) w.error("invalid-header", headerEntry.value, `${path}.header`, `"${v}" is not an HTTP header name`, "e.g. Authorization or x-api-key");
    else if (v !== null) header = v;
  }
  let format = "{value}";
  const formatEntry = m.get("format");
  if (formatEntry) {
    const v = w.string(formatEntry.value, `${path}.format`);
    if (v !== null && !v.includes("{value}")) w.error("invalid-format", formatEntry.value, `${path}.format`, `format "${v}" does not contain {value}`, 'e.g. "Bearer {value}"');
    else if (v !== null) format = v;
    if (!headerEntry) w.warning("format-without-header", formatEntry.key, `${path}.format`, `"format" has no effect without "header"`, "add header: Authorization, or drop format");
  }
  let placeholder = `moat-placeholder-${name}`;
  const ph = m.get("placeholder");
  if (ph) {
    const v = w.string(ph.value, `${path}.placeholder`);
    if (v !== null && v.length < 8) w.error("invalid-placeholder", ph.value, `${path}.placeholder`, `placeholder "${v}" is too short to be replaced safely`, "use at least 8 characters");
    else if (v !== null) placeholder = v;
  }
  if (!ok || from === null) return null;
  return { name, from, hosts, ...(header ? { header } : {}), format, placeholder, origin: w.origin(keyNode), path };
}

export function parseSecretsSection(w: Walker, node: AnyNode, layer: PolicyLayer): void {
  const entries = w.namedMap(node, "secrets");
  for (const e of entries ?? []) {
    const s = parseSecret(w, String(e.key.value), e.key, e.value);
    if (s) layer.secrets.push(s);
  }
}
