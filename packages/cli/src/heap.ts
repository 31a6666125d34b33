import v8 from 'node:v8'

/**
 * How far V8 lets the old generation grow past its live size before a full collection: 200 means
 * up to 3x. A node's live heap is small (about 27 MB: libp2p, gossipsub, pino), and V8's default
 * factor on a busy core keeps the limit so close to it that the buffers a unit transfer holds for
 * a few milliseconds start a full mark-compact every 2 to 3 s, each some 50 ms of the core ffmpeg
 * is using. bench/trace.ts (2 nodes, 4 runs each) measured the nodes' own CPU per job at 4.0 s
 * with the default and 3.4 s with 200, and full collections during a job fell from about 10 per
 * node to 2; the cost is a few tens of MB more heap.
 */
export const HEAP_GROWING_PERCENT = 200

/**
 * Sets the growing factor for a long-running `ffmesh node` process, unless Node was started with
 * its own --heap-growing-percent. V8 reads the flag at each collection, so setting it at run time
 * takes effect from the next one; only the node command calls this, never the library.
 */
export function tuneNodeHeap (init: { execArgv?: readonly string[], setFlags?: (flags: string) => void } = {}): boolean {
  const execArgv = init.execArgv ?? process.execArgv
  if (execArgv.some(arg => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false
  ;(init.setFlags ?? v8.setFlagsFromString)(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}
