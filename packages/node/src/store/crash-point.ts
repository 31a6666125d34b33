/**
 * Crash injection for the fault tests (test/faults/crash-points.test.ts) only. It is read once from
 * the environment when this module loads, never from config, so no setting can arm it; unset, every
 * call is a comparison with null. Armed, the process kills itself with SIGKILL at the named point,
 * the closest a test can get to pulling the plug between two steps of storing a result or a plan.
 */
export const CRASH_POINT_ENV = 'FFMESH_TEST_CRASH_AT'

export type CrashPoint =
  | 'result-after-temp-write'
  | 'result-after-fsync'
  | 'result-after-rename'
  | 'result-before-log'
  | 'plan-after-audio'
  // A placed file (store/place-file.ts) linked in, not yet recorded
  | 'placement-after-link'
  // The steps of a library's --replace swap (library/swap.ts)
  | 'swap-before-intent'
  | 'swap-after-intent'
  | 'swap-after-trash'
  | 'swap-after-rename'
  | 'swap-before-done'

const armed: string | null = process.env[CRASH_POINT_ENV] ?? null

export function crashPoint (point: CrashPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL')
}
