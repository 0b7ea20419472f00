/** Generates the protobufjs static code before the tests when no build has (e.g. a bare `vitest run`). */
// @ts-expect-error -- plain .mjs script without types
import { generate } from "../scripts/generate.mjs";

export default function setup(): void {
  (generate as () => void)();
}
