/** How numbers and times read on the page. Pure functions: tested without a browser. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']

/** 1536 → "1.5 KB" (powers of 1024, as `ffmesh peers` prints them). */
export function formatBytes (bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`
}

/** 0.4567 → "46%". */
export function formatPercent (fraction: number): string {
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`
}

/** Milliseconds → "4.2 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  const s = ms / 1000
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.round(s)} s`
  const min = Math.floor(s / 60)
  if (min < 60) return `${min} min ${Math.round(s % 60)} s`
  return `${Math.floor(min / 60)} h ${min % 60} min`
}

/** How long ago, for "last seen": "just now", "40 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAgo (then: number, now: number): string {
  const s = Math.max(0, (now - then) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${Math.round(s)} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86_400)} d ago`
}

/** The file name of a path the node gave (POSIX paths: the node runs on Linux). */
export function baseName (file: string): string {
  const parts = file.split('/')
  return parts[parts.length - 1] || file
}

/**
 * Ids are long (peer ids, 26-character job ULIDs); their last eight characters tell them apart, as
 * the CLI's tables show peers. A ULID's first characters are its time: equal for a batch.
 */
export function shortId (id: string): string {
  return id.length > 12 ? `…${id.slice(-8)}` : id
}
