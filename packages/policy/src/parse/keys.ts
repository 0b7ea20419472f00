/**
 * The keys each mapping of a policy file accepts. The validator uses them for unknown-key errors
 * and "did you mean" hints; a test checks the published JSON Schema lists exactly the same keys.
 */
export const TOP_KEYS = ["version", "files", "network", "secrets", "resources"] as const;
export const FILES_KEYS = ["mounts", "deny", "readonly", "outsideLinks", "allowBroad"] as const;
export const MOUNT_KEYS = ["host", "guest", "mode", "deny", "readonly"] as const;
export const NETWORK_KEYS = ["preset", "default", "directIp", "allow", "deny"] as const;
export const RULE_KEYS = ["host", "ports", "methods", "paths", "comment"] as const;
export const SECRET_KEYS = ["env", "file", "hosts", "header", "format", "placeholder"] as const;
export const RESOURCES_KEYS = ["cpus", "memory", "disk"] as const;

export const PRESETS = ["open", "balanced", "locked"] as const;
export const VERDICTS = ["allow", "deny"] as const;
export const MOUNT_MODES = ["ro", "rw"] as const;
export const LINK_RULES = ["refuse", "warn"] as const;
