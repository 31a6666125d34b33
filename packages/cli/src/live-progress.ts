import cliProgress from 'cli-progress'
import type { JobStatus } from '@ffmesh/protocol'
import { shortPeer } from './tables.js'

/** Non-TTY output prints a line per job when its state changes or its progress passes a step. */
const PLAIN_PROGRESS_STEP = 0.1
const BAR_TOTAL = 100

export interface LiveProgress {
  update(jobs: JobStatus[]): void
  /** A line about the run itself (the node went away), printed above bars or between lines. */
  note(line: string): void
  stop(): void
}

/** Where a note about the run goes: above the progress, or on stderr where stdout carries JSON. */
export function noteTo (progress: LiveProgress | null): (line: string) => void {
  return line => {
    if (progress != null) progress.note(line)
    else process.stderr.write(`${line}\n`)
  }
}

/**
 * Progress for people: redrawn bars (per job, plus per unit being converted and by whom) on a
 * terminal; plain progress lines when stdout is a pipe or a file, so logs stay readable.
 */
export function createLiveProgress (init: { stream?: NodeJS.WriteStream } = {}): LiveProgress {
  const stream = init.stream ?? process.stdout
  return stream.isTTY === true ? createBars(stream) : createLines(stream)
}

function createLines (stream: NodeJS.WriteStream): LiveProgress {
  const last = new Map<string, { state: string, step: number }>()
  return {
    update (jobs) {
      for (const j of jobs) {
        const step = Math.floor(j.progress / PLAIN_PROGRESS_STEP)
        const prev = last.get(j.id)
        if (prev != null && prev.state === j.state && prev.step === step) continue
        last.set(j.id, { state: j.state, step })
        const units = `${j.units.filter(u => u.state === 'verified').length}/${j.units.length} units`
        const tail =
          j.error != null
            ? ` ${j.error.code}: ${j.error.message}`
            : j.state === 'done' && j.output != null
              ? ` -> ${j.output}`
              : j.waiting != null
                ? ` (${j.waiting})`
                : ''
        stream.write(`${j.id} ${j.state} ${Math.round(j.progress * 100)}% ${units}${tail}\n`)
      }
    },
    note (line) { stream.write(`${line}\n`) },
    stop () {}
  }
}

function createBars (stream: NodeJS.WriteStream): LiveProgress {
  const multi = new cliProgress.MultiBar({
    stream,
    format: '{label} [{bar}] {percentage}% {detail}',
    hideCursor: true,
    clearOnComplete: false,
    autopadding: true
  }, cliProgress.Presets.shades_classic)
  const bars = new Map<string, cliProgress.SingleBar>()

  const show = (key: string, value: number, payload: { label: string, detail: string }): void => {
    const bar = bars.get(key)
    if (bar == null) bars.set(key, multi.create(BAR_TOTAL, value, payload))
    else bar.update(value, payload)
  }

  return {
    update (jobs) {
      const active = new Set<string>()
      for (const j of jobs) {
        const units = `${j.units.filter(u => u.state === 'verified').length}/${j.units.length} units`
        const detail =
          j.error != null
            ? `${j.state} ${j.error.code}`
            : `${j.state} ${units}${j.waiting != null ? ` (${j.waiting})` : ''}`
        show(j.id, Math.round(j.progress * BAR_TOTAL), { label: j.id, detail })
        active.add(j.id)
        for (const u of j.units) {
          if (u.state !== 'converting' && u.state !== 'leased') continue
          const key = `${j.id}:${u.index}`
          show(key, Math.round(u.progress * BAR_TOTAL), {
            label: `  unit ${u.index} (${u.kind})`.padEnd(j.id.length),
            detail: `${u.state} on ${shortPeer(u.worker)}`
          })
          active.add(key)
        }
      }
      for (const [key, bar] of bars) {
        if (active.has(key)) continue
        multi.remove(bar)
        bars.delete(key)
      }
    },
    note (line) { multi.log(`${line}\n`) },
    stop () { multi.stop() }
  }
}
