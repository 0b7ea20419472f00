/** `moat doctor [--json]`: which backends exist here, whether they can run guests, and what to do. */
import { Command } from "commander";
import { collectDoctorReport } from "../doctor/report.js";
import { renderDoctorText } from "../doctor/render-text.js";
import type { CliContext } from "../context.js";

export function doctorCommand(context: CliContext): Command {
  return new Command("doctor")
    .description("check this host: installed backends, whether each can boot guests, which one moat would use, and what to do next")
    .option("--json", "print the report as JSON (stable field names: backends[].name/installed/available/reason/fix)")
    .addHelpText("after", "\nExit status: 0 when some backend can run guests here, 1 when none can.")
    .action(async (options: { json?: boolean }) => {
      const report = await collectDoctorReport({ moatVersion: context.version, env: context.env });
      context.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorText(report));
      if (!report.selected) process.exitCode = 1;
    });
}
