/**
 * The backends moat knows by name, where each runs, and which ones each platform tries by default
 * (in order: the first whose probe says it can boot guests wins; later ones are fallbacks).
 */
export interface KnownBackend {
  name: string;
  /** What it runs on, for `moat doctor` and for errors. */
  summary: string;
  /** Platforms its package installs on (its package.json `os`). */
  os: readonly NodeJS.Platform[];
}

export const KNOWN_BACKENDS: readonly KnownBackend[] = [
  { name: "kvm", summary: "Linux KVM with moat's own VMM", os: ["linux"] },
  { name: "hvf", summary: "macOS Hypervisor.framework with moat's own VMM", os: ["darwin"] },
  { name: "whp", summary: "Windows Hypervisor Platform with moat's own VMM", os: ["win32"] },
  { name: "qemu", summary: "QEMU microvm: software fallback (TCG) where hardware virtualization is unusable", os: ["linux"] },
];

/**
 * Candidates tried in order when no backend is named. On Linux, qemu follows kvm: on hosts whose
 * /dev/kvm cannot boot a guest (nested PVM, no VT-x) moat still runs, slower, with a warning.
 */
export const PLATFORM_CANDIDATES: Readonly<Partial<Record<NodeJS.Platform, readonly string[]>>> = {
  linux: ["kvm", "qemu"],
  darwin: ["hvf"],
  win32: ["whp"],
};

export function platformCandidates(platform: NodeJS.Platform): readonly string[] {
  return PLATFORM_CANDIDATES[platform] ?? [];
}

export function knownBackend(name: string): KnownBackend | undefined {
  return KNOWN_BACKENDS.find((known) => known.name === name);
}

/** The package names a backend called `name` may be published under, in lookup order. */
export function packageNamesFor(name: string): [string, string] {
  return [`@moat/backend-${name}`, `moat-backend-${name}`];
}

/** Backend names are lowercase words (they become package names). */
export const BACKEND_NAME_PATTERN = /^[a-z][a-z0-9-]{0,49}$/;
