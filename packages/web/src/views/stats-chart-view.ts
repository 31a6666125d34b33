import type { StatsDay } from '@ffmesh/protocol'
import { h, replace, setText, svg } from '../dom.js'
import { formatBytes } from '../format.js'
import { layoutDays, type DayBar } from '../stats-chart.js'

/** The chart's coordinate box; the SVG stretches it to the page's width. */
const CHART_WIDTH = 600
const CHART_HEIGHT = 160

function describe (bar: DayBar): string {
  const saved = bar.bytesSaved < 0 ? `${formatBytes(-bar.bytesSaved)} larger` : `${formatBytes(bar.bytesSaved)} saved`
  return `${bar.day}: ${bar.converted} converted, ${saved}`
}

/**
 * Bytes saved per day as bars, drawn with DOM calls into an inline SVG (no chart library, no
 * inline script or style: the page's CSP allows neither). Each day is a bar with its date and
 * figures as its tooltip, so the empty days keep their place on the time axis.
 */
export function createDayChart (): { root: HTMLElement, update(days: readonly StatsDay[]): void } {
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'img'
  })
  const top = h('span', { class: 'chart-max' })
  const from = h('span')
  const to = h('span')
  const root = h('figure', { class: 'day-chart' },
    h('figcaption', null, 'Bytes saved per day, last 30 days ', top),
    chart,
    h('div', { class: 'chart-axis' }, from, to))
  let drawn = ''

  return {
    root,
    update (days) {
      const key = JSON.stringify(days)
      if (key === drawn) return
      drawn = key
      const { bars, max } = layoutDays(days, CHART_WIDTH, CHART_HEIGHT)
      setText(top, max > 0 ? `(top: ${formatBytes(max)})` : '(nothing saved yet)')
      setText(from, days[0]?.day ?? '')
      setText(to, days.at(-1)?.day ?? '')
      chart.setAttribute('aria-label', `bytes saved per day from ${days[0]?.day ?? ''} to ${days.at(-1)?.day ?? ''}`)
      // A slot per day, the full height, carries the tooltip: a day with nothing saved can be pointed at too.
      replace(
        chart,
        svg('line', { class: 'baseline', x1: 0, y1: CHART_HEIGHT, x2: CHART_WIDTH, y2: CHART_HEIGHT }),
        ...bars.map(bar =>
          svg(
            'g',
            { class: 'day', 'data-day': bar.day },
            svg('title', null, describe(bar)),
            svg('rect', { class: 'slot', x: bar.x, y: 0, width: bar.width, height: CHART_HEIGHT }),
            bar.height > 0
              ? svg('rect', {
                  class: 'bar',
                  x: bar.x,
                  y: bar.y,
                  width: bar.width,
                  height: bar.height,
                  'data-day': bar.day
                })
              : null
          )
        )
      )
    }
  }
}
