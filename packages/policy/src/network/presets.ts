/**
 * Network presets. `open`: everything allowed (default allow, direct IPs allowed) except cloud
 * metadata endpoints. `balanced`: default deny plus package registries, code hosts and AI provider
 * APIs on HTTPS, with private, loopback and link-local ranges denied so an allowed name resolving to
 * an internal address (DNS rebinding) is still refused. `locked`: nothing goes out.
 */
import type { PresetName } from "../model/policy.js";
import type { Verdict } from "./rule.js";

export interface PresetDefinition {
  default: Verdict;
  directIp: Verdict;
  allow: string[];
  deny: string[];
  description: string;
}

const METADATA = ["169.254.169.254", "fd00:ec2::254"];

const INTERNAL = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8", "::1", "fc00::/7", "fe80::/10"];

const PACKAGE_REGISTRIES = [
  "registry.npmjs.org:443",
  "registry.yarnpkg.com:443",
  "pypi.org:443",
  "files.pythonhosted.org:443",
  "crates.io:443",
  "static.crates.io:443",
  "index.crates.io:443",
  "proxy.golang.org:443",
  "sum.golang.org:443",
  "rubygems.org:443",
  "repo.maven.apache.org:443",
  "repo1.maven.org:443",
  "api.nuget.org:443",
  "deb.debian.org:80,443",
  "security.debian.org:80,443",
  "registry-1.docker.io:443",
  "auth.docker.io:443",
  "production.cloudflare.docker.com:443",
];

const CODE_HOSTS = [
  "github.com:443",
  "api.github.com:443",
  "codeload.github.com:443",
  "*.githubusercontent.com:443",
  "ghcr.io:443",
  "gitlab.com:443",
  "bitbucket.org:443",
];

const AI_PROVIDERS = [
  "api.anthropic.com:443",
  "api.openai.com:443",
  "generativelanguage.googleapis.com:443",
  "api.mistral.ai:443",
  "api.groq.com:443",
  "openrouter.ai:443",
];

export const PRESETS: Record<PresetName, PresetDefinition> = {
  open: { default: "allow", directIp: "allow", allow: [], deny: METADATA, description: "everything allowed except cloud metadata endpoints" },
  balanced: {
    default: "deny",
    directIp: "deny",
    allow: [...PACKAGE_REGISTRIES, ...CODE_HOSTS, ...AI_PROVIDERS],
    deny: INTERNAL,
    description: "default deny; package registries, code hosts and AI provider APIs allowed; internal ranges denied",
  },
  locked: { default: "deny", directIp: "deny", allow: [], deny: INTERNAL, description: "no network" },
};
