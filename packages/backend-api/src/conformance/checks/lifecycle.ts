/**
 * Lifecycle checks on a really booting machine: create → start → running → stop → stopped, wait()
 * settles with the same exit, stop() is idempotent, a machine boots once, kill() ends it at once.
 */
import { isDeepStrictEqual } from "node:util";
import type { Machine, MachineState } from "../../contract.js";
import { BackendErrorCode } from "../../errors/backend-error.js";
import { ensure, rejectsWith, within } from "../assert.js";
import type { ConformanceCheck } from "../types.js";
import { bootableSpecOrSkip, ENDED_STATES, EXIT_REASONS } from "./bootable.js";

/** Reads the state afresh (TypeScript would otherwise narrow it across awaits). */
const stateOf = (machine: Machine): MachineState => machine.state;

export const startStopCheck: ConformanceCheck = {
  id: "lifecycle-start-stop",
  title: "start() → running, stats(), stop() → stopped, wait() settles, stop() again is idempotent",
  async run(context) {
    const spec = await bootableSpecOrSkip(context);
    if ("skip" in spec) return spec;
    const { backend, stepTimeoutMs: ms, track } = context;
    const machine = track(await within(backend.createMachine(spec), ms, "createMachine()"));
    ensure(stateOf(machine) === "created", `a new machine's state must be "created", got ${JSON.stringify(stateOf(machine))}`);
    ensure(isDeepStrictEqual(machine.spec, spec), "machine.spec must equal the spec it was created from");
    // A backend without hybrid vsock (e.g. QEMU's virtio-serial transport) reaches guest ports only
    // through connect() and reports no socket path; one that has it must report the spec's.
    ensure(
      machine.vsockPath === undefined || machine.vsockPath === spec.vsock?.udsPath,
      `machine.vsockPath must be undefined or equal spec.vsock.udsPath (${spec.vsock?.udsPath}), got ${machine.vsockPath}`,
    );
    await rejectsWith(() => machine.connect(1024), [BackendErrorCode.INVALID_STATE, BackendErrorCode.UNAVAILABLE], "connect(1024) before start()", ms);

    await within(machine.start(), ms, "start()");
    ensure(stateOf(machine) === "running", `after start() the state must be "running", got ${JSON.stringify(stateOf(machine))}`);
    const stats = await within(machine.stats(), ms, "stats()");
    ensure(stats.state === "running", `stats().state must be "running" while running, got ${JSON.stringify(stats.state)}`);
    ensure(stats.vcpus === spec.vcpus && stats.memoryMiB === spec.memoryMiB, `stats() must report the spec's vcpus/memoryMiB (${spec.vcpus}/${spec.memoryMiB}), got ${stats.vcpus}/${stats.memoryMiB}`);
    ensure(typeof stats.uptimeMs === "number" && stats.uptimeMs >= 0, `stats().uptimeMs must be a number >= 0, got ${stats.uptimeMs}`);
    if (stats.guestResidentBytes !== undefined) {
      const guestBytes = spec.memoryMiB * 1024 * 1024;
      ensure(
        Number.isInteger(stats.guestResidentBytes) && stats.guestResidentBytes >= 0 && stats.guestResidentBytes <= guestBytes,
        `stats().guestResidentBytes must be whole bytes within the guest's ${spec.memoryMiB} MiB, got ${stats.guestResidentBytes}`,
      );
    }

    const waited = machine.wait();
    const exit = await within(machine.stop({ graceful: true, timeoutMs: Math.floor(ms / 2) }), ms, "stop({ graceful: true })");
    ensure(EXIT_REASONS.includes(exit?.reason), `stop() must resolve to a MachineExit with reason ${EXIT_REASONS.join("/")}, got ${JSON.stringify(exit)}`);
    ensure(ENDED_STATES.includes(stateOf(machine)), `after stop() the state must be "stopped", got ${JSON.stringify(stateOf(machine))}`);
    const waitedExit = await within(waited, ms, "wait() (called before stop)");
    ensure(waitedExit.reason === exit.reason, `wait() must settle with the exit stop() returned (${exit.reason}), got ${waitedExit.reason}`);
    const again = await within(machine.stop(), ms, "stop() on a stopped machine");
    ensure(again?.reason === exit.reason, `stop() on a stopped machine must resolve to the same exit (${exit.reason}), got ${JSON.stringify(again)}`);
    const after = await within(machine.stats(), ms, "stats() after stop");
    ensure(ENDED_STATES.includes(after.state), `stats().state after stop() must be "stopped", got ${JSON.stringify(after.state)}`);
    await rejectsWith(() => machine.start(), [BackendErrorCode.INVALID_STATE], "start() on a stopped machine (a machine boots once)", ms);
  },
};

export const killCheck: ConformanceCheck = {
  id: "lifecycle-kill",
  title: 'kill() ends a running machine with reason "killed"; wait() settles',
  async run(context) {
    const spec = await bootableSpecOrSkip(context);
    if ("skip" in spec) return spec;
    const { backend, stepTimeoutMs: ms, track } = context;
    const machine = track(await within(backend.createMachine(spec), ms, "createMachine()"));
    await within(machine.start(), ms, "start()");
    const exit = await within(machine.kill(), ms, "kill()");
    ensure(exit?.reason === "killed", `kill() must resolve to { reason: "killed" }, got ${JSON.stringify(exit)}`);
    ensure(ENDED_STATES.includes(stateOf(machine)), `after kill() the state must be "stopped", got ${JSON.stringify(stateOf(machine))}`);
    const waited = await within(machine.wait(), ms, "wait() after kill()");
    ensure(waited.reason === "killed", `wait() after kill() must settle with reason "killed", got ${JSON.stringify(waited)}`);
  },
};

export const pauseResumeCheck: ConformanceCheck = {
  id: "pause-resume",
  title: "pause()/resume() work when features.pause, else reject with UNSUPPORTED",
  async run(context) {
    const spec = await bootableSpecOrSkip(context);
    if ("skip" in spec) return spec;
    const { backend, stepTimeoutMs: ms, track } = context;
    const { features } = await context.probe();
    const machine = track(await within(backend.createMachine(spec), ms, "createMachine()"));
    await within(machine.start(), ms, "start()");
    if (!features.pause) {
      await rejectsWith(() => machine.pause(), [BackendErrorCode.UNSUPPORTED], "pause() with features.pause = false", ms);
      return;
    }
    await within(machine.pause(), ms, "pause()");
    ensure(stateOf(machine) === "paused", `after pause() the state must be "paused", got ${JSON.stringify(stateOf(machine))}`);
    await within(machine.resume(), ms, "resume()");
    ensure(stateOf(machine) === "running", `after resume() the state must be "running", got ${JSON.stringify(stateOf(machine))}`);
  },
};

export const guestCheck: ConformanceCheck = {
  id: "guest-check",
  title: "the backend's own guestCheck passes against a started machine",
  async run(context) {
    if (!context.options.guestCheck) return { skip: "no guestCheck option given" };
    const spec = await bootableSpecOrSkip(context);
    if ("skip" in spec) return spec;
    const { backend, stepTimeoutMs: ms, track } = context;
    const machine = track(await within(backend.createMachine(spec), ms, "createMachine()"));
    await within(machine.start(), ms, "start()");
    await context.options.guestCheck(machine, spec);
  },
};
