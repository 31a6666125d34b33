/** A counting semaphore for conversion slots: prefetched units wait here for a free ffmpeg slot. */
export function createSlots (count: number) {
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
