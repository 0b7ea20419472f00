/**
 * What a `moat policy …` command returns: the text to print, a JSON form and the exit code, so the
 * CLI stays a thin wrapper and tests call the logic directly.
 * Exit codes: 0 success (or allowed), 1 denied (`policy test` only), 2 validation errors or bad input.
 */
export interface CommandResult {
  exitCode: 0 | 1 | 2;
  text: string;
  json: unknown;
}
