#!/usr/bin/env node
/**
 * The `moat` executable (bundled to dist/moat.js). Parses the command line and turns any error into
 * one diagnosing message with its fix and a non-zero exit status; --debug adds the stack and cause.
 */
import pkg from "../package.json" with { type: "json" };
import { createProgram } from "./program.js";
import { formatError } from "./format-error.js";

const context = {
  version: pkg.version,
  env: process.env,
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
};

try {
  await createProgram(context).parseAsync(process.argv);
} catch (error) {
  context.stderr(formatError(error, process.argv.includes("--debug") || process.env.MOAT_DEBUG === "1"));
  process.exitCode = 1;
}
