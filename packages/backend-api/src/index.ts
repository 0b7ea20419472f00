/** @moat/backend-api: the backend contract (filled in by the foundation work). */
export const CONTRACT_VERSION = "1.0.0";
