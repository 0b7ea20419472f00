/** The CLI's commands, one module each; a new command is one file here plus one line below. */
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { cpCommand } from "./cp.js";
import { createCommand } from "./create.js";
import { doctorCommand } from "./doctor.js";
import { execCommand } from "./exec.js";
import { logsCommand } from "./logs.js";
import { lsCommand } from "./ls.js";
import { policyCommand } from "./policy.js";
import { rmCommand } from "./rm.js";
import { runCommand } from "./run.js";
import { startCommand } from "./start.js";
import { stopCommand } from "./stop.js";

export const COMMANDS: ReadonlyArray<(context: CliContext) => Command> = [
  runCommand,
  createCommand,
  startCommand,
  execCommand,
  lsCommand,
  stopCommand,
  rmCommand,
  cpCommand,
  logsCommand,
  doctorCommand,
  policyCommand,
];
