/** Check: the backend names itself properly and implements a contract version the host can drive. */
import { CONTRACT_VERSION } from "../../contract.js";
import { compatibleRange, isContractCompatible, parseContractVersion } from "../../version/contract-version.js";
import { ensure } from "../assert.js";
import type { ConformanceCheck } from "../types.js";

export const identityCheck: ConformanceCheck = {
  id: "identity",
  title: "name and contractVersion are well-formed and compatible",
  async run({ backend, options }) {
    ensure(typeof backend.name === "string" && /^[a-z][a-z0-9-]*$/.test(backend.name), `backend.name must be a lowercase word like "kvm" (it names the package moat-backend-<name>), got ${JSON.stringify(backend.name)}`);
    ensure(parseContractVersion(backend.contractVersion), `backend.contractVersion must be semver like "${CONTRACT_VERSION}", got ${JSON.stringify(backend.contractVersion)}`);
    const host = options.hostContractVersion ?? CONTRACT_VERSION;
    ensure(isContractCompatible(backend.contractVersion, host), `backend.contractVersion ${backend.contractVersion} does not fit the host's contract ${host} (a backend must implement ${compatibleRange(host)})`);
    ensure(typeof backend.probe === "function", "backend.probe must be a function");
    ensure(typeof backend.createMachine === "function", "backend.createMachine must be a function");
  },
};
