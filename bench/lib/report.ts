/** What every bench prints: a small aligned table, the command that made it, and the machine's load. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export function printTable (headers: string[], rows: Array<Array<string | number>>): void {
  const cells = [headers, ...rows.map(r => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map(r => (r[i] ?? '').length)))
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')
  console.log(line(headers))
  console.log(widths.map(w => '-'.repeat(w)).join('  '))
  for (const r of cells.slice(1)) console.log(line(r))
}

/** The command line as a person would type it from the repository root. */
export function commandLine (): string {
  const script = path.relative(process.cwd(), process.argv[1] ?? '')
  return ['node', '--experimental-strip-types', script, ...process.argv.slice(2)].join(' ')
}

export function loadNote (): string {
  const [one, five] = os.loadavg()
  return `load average ${one.toFixed(2)} (1 min) ${five.toFixed(2)} (5 min) on ${os.availableParallelism()} CPUs`
}

export const seconds = (ms: number): string => (ms / 1000).toFixed(1)

/** Clock ticks per second in /proc/stat and /proc/PID/stat (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS = 100

/**
 * User + system CPU seconds of a process itself and of its waited-for children (reaped ffmpeg
 * processes), from /proc/PID/stat. Less sensitive than wall time to other people's work on a
 * shared machine.
 */
export function processCpuSeconds (pid: number | 'self' = 'self'): ProcessCpu {
  return statCpuSeconds(`/proc/${pid}/stat`)
}

/** CPU seconds from a stat file; the kernel's share of each (system time) beside it. */
export interface ProcessCpu { self: number, children: number, selfSystem: number, childrenSystem: number }

/** The same from any stat file: /proc/PID/task/TID/stat gives one thread's own seconds in `self`. */
export function statCpuSeconds (statFile: string): ProcessCpu {
  const stat = fs.readFileSync(statFile, 'utf8')
  // Fields after the command name (which may hold spaces) start at field 3: utime, stime, cutime
  // and cstime are fields 14 to 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const at = (i: number): number => Number(fields[i] ?? 0) / CLOCK_TICKS
  return { self: at(11) + at(12), children: at(13) + at(14), selfSystem: at(12), childrenSystem: at(14) }
}

/** CPU seconds of this process's waited-for children. */
export const childCpuSeconds = (): number => processCpuSeconds().children

export function selfCpuSeconds (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

export function goal (met: boolean): string {
  return met ? 'goal met' : 'goal missed'
}

/** Reads `--name value` from argv. */
export function argValue (name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

/** True when `--name` is on the command line. */
export function argFlag (name: string): boolean {
  return process.argv.includes(`--${name}`)
}

export function argNumber (name: string, fallback: number): number {
  return argOptionalNumber(name) ?? fallback
}

/** `--name N` as a positive number, or undefined when it is not given (the caller's default applies). */
export function argOptionalNumber (name: string): number | undefined {
  const raw = argValue(name)
  if (raw == null) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, got "${raw}"`)
  return n
}

/** The middle value (the mean of the middle two for an even count): steadier than a mean on a shared machine. */
export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
