import { accessSync, constants } from 'node:fs'
import path from 'node:path'

/** How ffmpeg children yield to the person at the machine (worker.nice, worker.ioIdle). */
export interface ChildPriority {
  /** 0 (normal) to 19 (lowest). */
  nice: number
  /** The idle I/O class: the child reads and writes only when no other process wants the disk. */
  ioIdle: boolean
}

/** `nice` and `ionice` exit with these when they cannot run the command they were given. */
export const EXEC_FAILED_EXIT_CODES: readonly number[] = [126, 127]

/** An executable of that name in PATH, or null. */
export function findInPath (name: string, envPath: string = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue
    const file = path.join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return null
}

export interface PriorityLauncher {
  /** The command and argv that run `binary args` at the priority (itself when nothing is lowered). */
  command(binary: string, args: string[]): { file: string, args: string[], wrapped: boolean }
}

/**
 * Runs children through `ionice -c 3` and `nice -n N`, which set the priority and then exec the
 * command: the child keeps one pid, and every thread ffmpeg starts inherits the priority from its
 * first instruction on (setting it after spawn would miss threads started before). A machine
 * without one of the tools runs the child without that part. The idle I/O class only acts under
 * an I/O scheduler that honours it (BFQ); with `none` or `mq-deadline` it changes nothing.
 * Probes and stream copies too, though they decode nothing: at the node's own priority they take
 * the core from the node's hashing and serving of bytes, which is what starts the other workers.
 */
export function createPriorityLauncher (
  priority: ChildPriority,
  tools: { nice: string | null; ionice: string | null } = { nice: findInPath('nice'), ionice: findInPath('ionice') }
): PriorityLauncher {
  const prefix: string[] = []
  if (priority.ioIdle && tools.ionice != null) prefix.push(tools.ionice, '-c', '3')
  if (priority.nice > 0 && tools.nice != null) prefix.push(tools.nice, '-n', String(priority.nice))
  return {
    command (binary, args) {
      if (prefix.length === 0) return { file: binary, args, wrapped: false }
      return { file: prefix[0] as string, args: [...prefix.slice(1), binary, ...args], wrapped: true }
    }
  }
}
