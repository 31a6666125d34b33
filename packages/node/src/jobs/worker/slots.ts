export interface Slots {
  readonly free: number
  /** Waits for a free slot (oldest waiter first); resolves to its release, which is safe to call twice. */
  acquire(signal?: AbortSignal): Promise<() => void>
}

/** A counting semaphore for conversion slots: prefetched units wait here for a free ffmpeg slot. */
export function createSlots (count: number): Slots {
  let free = count
  const waiters: Array<() => void> = []
  return {
    get free (): number { return free },
    async acquire (signal?: AbortSignal): Promise<() => void> {
      signal?.throwIfAborted()
      if (free > 0) {
        free--
      } else {
        await new Promise<void>((resolve, reject) => {
          const wake = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
          const onAbort = (): void => {
            const i = waiters.indexOf(wake)
            if (i >= 0) waiters.splice(i, 1)
            reject(signal?.reason)
          }
          waiters.push(wake)
          signal?.addEventListener('abort', onAbort, { once: true })
        })
      }
      let released = false
      return () => {
        if (released) return
        released = true
        const next = waiters.shift()
        if (next != null) next()
        else free++
      }
    }
  }
}

/**
 * Whether an audio unit runs beside the video slots, as plain ffmpeg runs its audio encoder beside
 * the video's threads (audio is light and single-threaded), or waits for a slot like any unit.
 * Beside, unless the slots' fixed thread counts already fill every CPU: the audio would then take
 * turns on a core with a video encoder, which costs CPU for no gain in time (on one core, a 600 s
 * AAC encode beside three 20 s x264 pieces took 0.9-1.3 s more than the same runs one after the
 * other, 38 s in all). `threads` is the units' own (unitThreads); at 0 the encoder picks its threads
 * and leaves room.
 */
export function audioRunsBeside (slots: number, threads: number, cpus: number): boolean {
  return threads === 0 || slots * threads < cpus
}

/**
 * The threads of one unit's ffmpeg: worker.threads when set. At 0, the CPU threads shared among
 * the slots (one each when there are as many slots as threads), so the slots together fill the
 * machine without taking turns; a node of one slot lets the encoder choose, as plain ffmpeg does.
 */
export function unitThreads (threads: number, slots: number, cpus: number): number {
  if (threads > 0) return threads
  return slots > 1 ? Math.max(1, Math.floor(cpus / slots)) : 0
}
