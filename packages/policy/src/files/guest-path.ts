/**
 * Guest paths no mount may take: `/` itself, and the guest's /proc, /sys, /dev and /run, which a
 * mount would hide. Checked where a guest path is known: a `guest` written in a policy file when it
 * is parsed, and every mount's guest path — the host path itself when `guest` is omitted — when the
 * mount table is compiled.
 */

const GUEST_SYSTEM_AREA = /^\/(proc|sys|dev|run)(\/|$)/;

export function hidesGuestSystem(guestPath: string): boolean {
  return guestPath === "/" || GUEST_SYSTEM_AREA.test(guestPath);
}
