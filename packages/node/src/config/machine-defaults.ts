import os from 'node:os'

/**
 * Memory a default slot is given room for. An x264 or x265 encode of 1080p in one thread stays
 * well inside it; SVT-AV1 at 4K comes near it. A machine with many cores and little memory (a NAS)
 * gets fewer slots, each with more threads.
 */
export const MEMORY_PER_DEFAULT_SLOT = 2 * 1024 ** 3

/**
 * worker.slots by default: one per CPU thread, as far as memory allows, at least one. Each slot's
 * ffmpeg then gets the CPU threads shared among the slots (jobs/worker/slots.ts `unitThreads`),
 * one each here. Separate single-threaded encoders of keyframe-aligned pieces use the cores better
 * than one encoder's frame threads, in time and in CPU seconds: bench/convert runs a node both ways
 * against plain ffmpeg (docs/benchmarks.md).
 */
export function defaultSlots (cpus = os.availableParallelism(), memory = os.totalmem()): number {
  return Math.max(1, Math.min(cpus, Math.floor(memory / MEMORY_PER_DEFAULT_SLOT)))
}
