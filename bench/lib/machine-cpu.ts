/**
 * The whole machine's CPU time by kind, from the first line of /proc/stat: what no process's own
 * figures show, the cores left idle and the kernel's share (writeback, softirqs), besides the time
 * of niced processes (every node runs its ffmpeg under `nice`) and of everything else.
 */
import fs from 'node:fs'
import { CLOCK_TICKS } from './report.ts'

export interface MachineCpu {
  /** Niced processes' user time: the encodes. */
  niced: number
  /** Other user time: the nodes' own processes, the CLI, the bench itself. */
  user: number
  /** System, irq and softirq time, of any process or kernel thread. */
  kernel: number
  /** Idle and waiting for the disk. */
  idle: number
  /** Taken by the hypervisor for other guests. */
  steal: number
}

export function machineCpu (): MachineCpu {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is also in user)
  const ticks = line.trim().split(/\s+/).slice(1).map(t => Number(t) / CLOCK_TICKS)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks
  const at = (v: number | undefined): number => v ?? 0
  return {
    niced: at(nice),
    user: at(user),
    kernel: at(system) + at(irq) + at(softirq),
    idle: at(idle) + at(iowait),
    steal: at(steal)
  }
}

/** CPU seconds of each kind from `before` to `after`. */
export function machineCpuSince (before: MachineCpu, after: MachineCpu = machineCpu()): MachineCpu {
  return {
    niced: after.niced - before.niced,
    user: after.user - before.user,
    kernel: after.kernel - before.kernel,
    idle: after.idle - before.idle,
    steal: after.steal - before.steal
  }
}

/**
 * One line for a run's core seconds: how the machine's cores were spent over `wallMs`. Beside a
 * run's own CPU seconds it shows what they leave out: cores that stood idle, and the kernel's work.
 */
export function describeMachineCpu (m: MachineCpu, wallMs: number, cores: number): string {
  const total = (cores * wallMs) / 1000
  return (
    `${cores} cores x ${(wallMs / 1000).toFixed(1)} s = ${total.toFixed(1)} core s: niced user (ffmpeg) ${m.niced.toFixed(1)}, ` +
    `other user ${m.user.toFixed(1)}, kernel ${m.kernel.toFixed(1)}, idle or waiting for the disk ${m.idle.toFixed(1)}, stolen ${m.steal.toFixed(1)}`
  )
}
