/**
 * Runs one machine from a native config in this (child) process and prints its exit as JSON on
 * stdout. The T1 tests run hostile payloads through it, so a VMM crash shows up as a failed child
 * (signal / exit code), never as a dead test runner. Also the smallest example of using the addon
 * directly: new NativeMachine(config, onEvent), start(), then close() after the exit event.
 *
 *   node run-native.cjs <addon.node> '<config json>'
 */
const [addonPath, configJson] = process.argv.slice(2);
const { NativeMachine } = require(addonPath);
const machine = new NativeMachine(JSON.parse(configJson), (event) => {
  if (event.type === "console") {
    process.stderr.write(event.data);
    return;
  }
  machine.close().then(() => {
    process.stdout.write(`${JSON.stringify({ reason: event.reason, status: event.status, detail: event.detail })}\n`);
  });
});
machine.start().catch((error) => {
  process.stdout.write(`${JSON.stringify({ startError: error.message, code: error.code })}\n`);
});
