/**
 * Memory and disk sizes: `512MiB`, `2GiB`, `2G` (binary units; `M`/`G`/`T` with or without `i`/`B`
 * mean the same), or a bare number of MiB. Results are whole MiB.
 */
export type SizeParse = { ok: true; mib: number } | { ok: false; message: string; hint: string };

const UNIT_MIB: Record<string, number> = { m: 1, g: 1024, t: 1024 * 1024 };

export function parseSizeMiB(text: string): SizeParse {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([mgt])(?:i?b)?)?\s*$/i.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not a size`, hint: 'write a size like "512MiB", "2GiB" or a number of MiB' };
  const mib = Number(m[1]) * (m[2] ? UNIT_MIB[m[2].toLowerCase()]! : 1);
  if (!Number.isInteger(mib)) return { ok: false, message: `"${text}" is not a whole number of MiB`, hint: "round it to whole MiB" };
  return { ok: true, mib };
}

export function formatMiB(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024}GiB` : `${mib}MiB`;
}
