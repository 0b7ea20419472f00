/**
 * Prints the shared VMM sources (backends/vmm/src/**\/*.cc) and this addon's native/*.cc, one per
 * line, relative to backends/kvm — binding.gyp calls it so new device files need no gyp edit.
 */
const { readdirSync } = require("node:fs");
const { join, relative } = require("node:path");

const here = join(__dirname, "..");
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".cc") ? [join(dir, e.name)] : [],
  );
}
const files = [...walk(join(here, "native")), ...walk(join(here, "..", "vmm", "src"))].sort();
console.log(files.map((f) => relative(here, f)).join("\n"));
