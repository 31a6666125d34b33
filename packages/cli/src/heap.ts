import v8 from 'node:v8'

/**
 * How far V8 lets the old generation grow past its live size before a full collection: 200 means
 * up to 3x. A node's live heap is small (about 27 MB: libp2p, gossipsub, pino), and V8's default
 * factor on a busy core keeps the limit so close to it that the little a busy node promotes
 * (stream chunks, gossip, child output) starts a full mark-compact every 2 to 3 s (--trace-gc),
 * each some 50 ms of the core ffmpeg is using. On a 2-node bench job (bench/trace.ts, 3 runs each
 * way, --heap-growing-percent=0 for V8's default) the two nodes' own CPU during the job fell from
 * 2.40 s to 1.77 s and the job from 17.5 s to 17.0 s; the cost is a few tens of MB more heap (the
 * transfer bench's peak RSS did not move).
 */
export const HEAP_GROWING_PERCENT = 200

/**
 * Sets the growing factor for a long-running `ffmesh node` process, unless Node was started with
 * its own --heap-growing-percent. V8 reads the flag at each collection, so setting it at run time
 * takes effect from the next one; only the node command calls this, never the library.
 */
export function tuneNodeHeap (
  init: { execArgv?: readonly string[]; setFlags?: (flags: string) => void } = {}
): boolean {
  const execArgv = init.execArgv ?? process.execArgv
  if (execArgv.some(arg => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false
  ;(init.setFlags ?? v8.setFlagsFromString)(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}
