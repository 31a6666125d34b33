export { createWatchManager, DEFAULT_POLL_MISSING_MS, MAX_LISTED_ENTRIES } from './watch-manager.js'
export type { WatchDeps, WatchManager, EndedJob } from './watch-manager.js'
export type { WatchDb } from './watch-store.js'
export { PARTIAL_SUFFIXES } from './watch-filter.js'
