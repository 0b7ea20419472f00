/** Checks on probe(): the result has the contract's shape, and an unavailable backend says why. */
import type { ProbeResult } from "../../contract.js";
import { ensure, within } from "../assert.js";
import type { ConformanceCheck } from "../types.js";

const HOST_ARCHS = ["x64", "arm64"];
const GUEST_ARCHS = ["x86_64", "aarch64"];
const FEATURES = ["snapshot", "pause", "shares", "hardwareAccelerated"] as const;

function checkShape(result: ProbeResult): void {
  ensure(typeof result === "object" && result !== null, `probe() must resolve to an object, got ${String(result)}`);
  ensure(typeof result.available === "boolean", `probe().available must be a boolean, got ${JSON.stringify(result.available)}`);
  ensure(HOST_ARCHS.includes(result.hostArch), `probe().hostArch must be one of ${HOST_ARCHS.join(", ")}, got ${JSON.stringify(result.hostArch)}`);
  ensure(Array.isArray(result.guestArchs) && result.guestArchs.every((a) => GUEST_ARCHS.includes(a)), `probe().guestArchs must be an array of ${GUEST_ARCHS.join("/")}, got ${JSON.stringify(result.guestArchs)}`);
  ensure(typeof result.features === "object" && result.features !== null, "probe().features must be an object");
  for (const feature of FEATURES) {
    ensure(typeof result.features[feature] === "boolean", `probe().features.${feature} must be a boolean, got ${JSON.stringify(result.features[feature])}`);
  }
  for (const key of ["reason", "fix"] as const) {
    ensure(result[key] === undefined || typeof result[key] === "string", `probe().${key} must be a string when present, got ${JSON.stringify(result[key])}`);
  }
  if (result.details !== undefined) {
    ensure(typeof result.details === "object" && result.details !== null, "probe().details must be an object of strings");
    for (const [key, value] of Object.entries(result.details)) ensure(typeof value === "string", `probe().details.${key} must be a string, got ${JSON.stringify(value)}`);
  }
}

export const probeShapeCheck: ConformanceCheck = {
  id: "probe-shape",
  title: "probe() resolves to a well-formed result; unavailable means a reason",
  async run({ probe }) {
    const result = await probe();
    checkShape(result);
    if (!result.available) {
      ensure(typeof result.reason === "string" && result.reason.trim().length > 0, "probe() says unavailable but gives no reason: tell the user why (and the fix, when there is one)");
    } else {
      ensure(result.available && result.guestArchs.length > 0, "probe() says available but lists no guestArchs it can boot");
    }
  },
};

export const probeStableCheck: ConformanceCheck = {
  id: "probe-stable",
  title: "probe() gives the same verdict when asked twice",
  async run({ backend, stepTimeoutMs }) {
    const first = await within(backend.probe(), stepTimeoutMs, "probe()");
    const second = await within(backend.probe(), stepTimeoutMs, "second probe()");
    ensure(first.available === second.available, `probe() said available=${first.available} then available=${second.available} on the same host`);
  },
};
