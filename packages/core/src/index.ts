/**
 * @moat/core: moat's Sandbox API. Backend selection lives in ./backends (registry, package lookup,
 * contract checks, fallbacks, doctor reports).
 */
export * from "./backends/index.js";
