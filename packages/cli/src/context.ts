/** What every command gets from the entry point: version, environment and output sinks (tests swap them). */
export interface CliContext {
  version: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}
