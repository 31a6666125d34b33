/**
 * Runs `fn` every `intervalMs`, never two at once, and at once when kicked. A kick that lands while
 * a run is under way runs one more after it, so the work it announced is not left to the next
 * interval; a busy interval is simply skipped.
 *
 * A run that finds nothing to look after (`fn` resolves to false) stops the interval until the next
 * kick: a node with no jobs of its own is not woken five times a second for none (bench/idle). So
 * whatever gives the owner work must kick it (job-steps.ts KICK_EVENTS).
 */
export function createTicker (fn: () => Promise<boolean>, intervalMs: number, onError: (err: unknown) => void) {
  let timer: NodeJS.Timeout | undefined
  let running = false
  let again = false
  let stopped = true
  const wake = (): void => {
    if (!stopped && timer == null) timer = setInterval(() => run(false), intervalMs)
  }
  const sleep = (): void => {
    clearInterval(timer)
    timer = undefined
  }
  const run = (kicked: boolean): void => {
    if (stopped) return
    if (running) { again ||= kicked; return }
    running = true
    // A run that failed keeps ticking (the step it failed in is retried at the next one).
    fn().catch((err: unknown) => { onError(err); return true }).then(busy => {
      if (busy) wake()
      else sleep()
    }).finally(() => {
      running = false
      if (again) { again = false; setImmediate(() => run(false)) }
    })
  }
  return {
    start (): void {
      stopped = false
      wake()
    },
    kick (): void {
      wake()
      setImmediate(() => run(true))
    },
    stop (): void {
      stopped = true
      sleep()
    }
  }
}
