import type { JobStatus } from '@ffmesh/protocol'
import { h, keyed, replace, setAttr, setText, svg } from '../dom.js'
import { formatDuration, shortId } from '../format.js'
import { layoutTimeline, type TimelineBar, type TimelineRow } from '../timeline.js'

/** The SVG track's coordinate width; bars are placed in it by fraction and stretched to the row. */
const TRACK_WIDTH = 1000
const TRACK_HEIGHT = 20

function describe (bar: TimelineBar): string {
  const outcome = bar.outcome === 'running' ? 'running' : bar.outcome
  return `unit ${bar.unit} (${bar.kind}), try ${bar.attempt}: ${formatDuration(bar.endedAt - bar.startedAt)}, ${outcome}`
}

/** Two rects per try: waiting for its input (lease to ffmpeg start), then converting. */
function drawBar (bar: TimelineBar): SVGGElement {
  const x = bar.x * TRACK_WIDTH
  const end = (bar.x + bar.width) * TRACK_WIDTH
  const convert = bar.convertX != null ? Math.min(end, Math.max(x, bar.convertX * TRACK_WIDTH)) : end
  return svg(
    'g',
    { class: `bar ${bar.outcome}`, 'data-unit': bar.unit },
    svg('title', null, describe(bar)),
    convert > x
      ? svg('rect', { class: 'wait', x, y: 2, width: Math.max(1, convert - x), height: TRACK_HEIGHT - 4 })
      : null,
    end > convert
      ? svg('rect', { class: 'convert', x: convert, y: 2, width: Math.max(1, end - convert), height: TRACK_HEIGHT - 4 })
      : null
  )
}

/**
 * A job's unit timeline: a row per node, each try of a unit a bar over time, green when
 * verified, red when released (failed, refused or expired), blue while it runs.
 */
export function createTimeline (): { root: HTMLElement, update(job: JobStatus, names: Map<string, string>): void } {
  const rows = h('div', { class: 'timeline-rows' })
  const from = h('span')
  const to = h('span')
  const empty = h('p', { class: 'empty' }, 'No unit has been given to a node yet.')
  const axis = h('div', { class: 'timeline-axis' }, from, to)
  const root = h('section', { class: 'timeline' }, h('h3', null, 'Unit timeline'), empty, rows, axis)

  return {
    root,
    update (job, names) {
      const timeline = layoutTimeline(job, Date.now())
      setAttr(empty, 'hidden', timeline != null)
      setAttr(axis, 'hidden', timeline == null)
      if (timeline == null) {
        replace(rows)
        return
      }
      setText(from, '0 s')
      setText(to, formatDuration(timeline.end - timeline.start))
      keyed(
        rows,
        timeline.rows,
        r => r.worker,
        () =>
          h(
            'div',
            { class: 'timeline-row' },
            h('span', { class: 'node-name' }),
            svg('svg', {
              class: 'track',
              viewBox: `0 0 ${TRACK_WIDTH} ${TRACK_HEIGHT}`,
              preserveAspectRatio: 'none',
              role: 'img'
            })
          ),
        (el, row: TimelineRow) => {
          const label = el.firstElementChild as HTMLElement
          const track = el.lastElementChild as SVGSVGElement
          setText(label, names.get(row.worker) ?? shortId(row.worker))
          setAttr(el, 'data-worker', row.worker)
          setAttr(track, 'aria-label', `units on ${label.textContent}`)
          // Bars move every second while units run: redrawn whole, they are few.
          replace(track, ...row.bars.map(drawBar))
        }
      )
    }
  }
}
