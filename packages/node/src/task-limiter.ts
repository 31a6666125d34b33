/** Runs at most `limit` tasks at once, the rest in arrival order. */
export interface TaskLimiter {
  run<T>(task: () => Promise<T>): Promise<T>
  /** Tasks running or waiting. */
  readonly size: number
}

export function createTaskLimiter (limit: number): TaskLimiter {
  let running = 0
  const waiting: Array<() => void> = []
  const next = (): void => {
    if (running >= limit) return
    const start = waiting.shift()
    if (start == null) return
    running++
    start()
  }
  return {
    get size () { return running + waiting.length },
    async run (task) {
      await new Promise<void>((resolve) => { waiting.push(resolve); next() })
      try {
        return await task()
      } finally {
        running--
        next()
      }
    }
  }
}
