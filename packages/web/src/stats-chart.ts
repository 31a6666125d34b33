import type { StatsDay } from '@ffmesh/protocol'

/**
 * The layout of the statistics chart: a bar per day for the bytes saved that day, in a box of
 * `width` × `height` units (the SVG's viewBox, stretched to the page). Pure: tested without a
 * browser.
 */
export interface DayBar {
  day: string
  converted: number
  bytesSaved: number
  x: number
  y: number
  width: number
  height: number
}

export interface DayChart {
  bars: DayBar[]
  /** The bytes the tallest bar stands for (the top of the scale); 0 when nothing was saved. */
  max: number
}

/** Space between bars, as a share of a day's slot. */
const GAP = 0.2
/** A day that saved something is drawn at least this tall, so a small saving is not invisible. */
const MIN_HEIGHT = 1

export function layoutDays (days: readonly StatsDay[], width: number, height: number): DayChart {
  const max = Math.max(0, ...days.map(d => d.bytesSaved))
  const slot = days.length === 0 ? 0 : width / days.length
  const bars = days.map((d, i): DayBar => {
    // A day whose outputs came out larger than their sources saved nothing: no bar.
    const h = max === 0 || d.bytesSaved <= 0 ? 0 : Math.max(MIN_HEIGHT, (d.bytesSaved / max) * height)
    return {
      day: d.day,
      converted: d.converted,
      bytesSaved: d.bytesSaved,
      x: i * slot + (slot * GAP) / 2,
      y: height - h,
      width: slot * (1 - GAP),
      height: h
    }
  })
  return { bars, max }
}
