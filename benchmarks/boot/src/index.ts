/** @moat/bench-boot: boot-to-ready benchmark of moat's VMM against QEMU microvm (see README.md). */
export { benchImage, READY_MARKER, type BootImage } from "./image.js";
export { contenders, type BootSample, type Contender } from "./contenders/index.js";
export { parseReadyLine } from "./contenders/contender.js";
export { rssBreakdown, parseSmaps, type RssBreakdown } from "./smaps.js";
export { summarize, type Summary } from "./stats.js";
export { buildReport, formatReport, type BootReport, type ContenderResult } from "./report.js";
export { runBootBenchmark } from "./benchmark.js";
