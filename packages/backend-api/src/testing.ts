/** `@moat/backend-api/testing`: test doubles for code that drives backends (never for production). */
export { createFakeBackend, type FakeBackendOptions } from "./testing/fake-backend.js";
export { createDuplexPair } from "./streams/duplex-pair.js";
