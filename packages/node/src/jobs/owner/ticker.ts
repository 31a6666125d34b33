/**
 * Runs `fn` every `intervalMs`, never two at once, and at once when kicked. A kick that lands while
 * a run is under way runs one more after it, so the work it announced is not left to the next
 * interval; a busy interval is simply skipped.
 */
export function createTicker (fn: () => Promise<void>, intervalMs: number, onError: (err: unknown) => void) {
  let timer: NodeJS.Timeout | undefined
  let running = false
  let again = false
  let stopped = true
  const run = (kicked: boolean): void => {
    if (stopped) return
    if (running) { again ||= kicked; return }
    running = true
    fn().catch(onError).finally(() => {
      running = false
      if (again) { again = false; setImmediate(() => run(false)) }
    })
  }
  return {
    start (): void {
      stopped = false
      timer = setInterval(() => run(false), intervalMs)
    },
    kick (): void { setImmediate(() => run(true)) },
    stop (): void {
      stopped = true
      clearInterval(timer)
    }
  }
}
