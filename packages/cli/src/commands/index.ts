/** The CLI's commands, one module each; a new command is one file here plus one line below. */
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { doctorCommand } from "./doctor.js";

export const COMMANDS: ReadonlyArray<(context: CliContext) => Command> = [doctorCommand];
