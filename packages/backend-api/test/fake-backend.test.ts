/** The fake backend's own behaviour beyond the kit: refusals, guest ports, pause without support. */
import { expect, test } from "vitest";
import { BackendErrorCode, isBackendError } from "../src/index.js";
import { syntheticSpec } from "../src/conformance.js";
import { createFakeBackend } from "../src/testing.js";

test("unavailable fake: probe explains, createMachine throws UNAVAILABLE", async () => {
  const backend = createFakeBackend({ available: false, reason: "not today" });
  expect(await backend.probe()).toMatchObject({ available: false, reason: "not today" });
  const error = await backend.createMachine(syntheticSpec("/tmp")).catch((e: unknown) => e);
  expect(isBackendError(error, BackendErrorCode.UNAVAILABLE)).toBe(true);
});

test("connect to a port nobody serves is UNAVAILABLE; a served port carries bytes both ways", async () => {
  const backend = createFakeBackend({ guestPorts: { 7: (guest) => guest.pipe(guest) } });
  const machine = await backend.createMachine(syntheticSpec("/tmp"));
  await machine.start();
  await expect(machine.connect(8)).rejects.toMatchObject({ code: "UNAVAILABLE", message: "no guest service listens on port 8" });
  const stream = await machine.connect(7);
  stream.end("hello");
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe("hello");
  expect(await machine.kill()).toEqual({ reason: "killed" });
});

test("pause without the feature is UNSUPPORTED", async () => {
  const machine = await createFakeBackend({ features: { pause: false } }).createMachine(syntheticSpec("/tmp"));
  await machine.start();
  await expect(machine.pause()).rejects.toMatchObject({ code: "UNSUPPORTED" });
  await machine.kill();
});
