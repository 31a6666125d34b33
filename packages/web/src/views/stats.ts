import type { StatsReport, StatsSpan } from '@ffmesh/protocol'
import { h, keyed, replace, setAttr, setText } from '../dom.js'
import { formatBytes, formatDuration, shortId } from '../format.js'
import { createDayChart } from './stats-chart-view.js'
import type { View, ViewContext } from './view.js'

type Row = [label: string, value: (s: StatsSpan) => string]

const ROWS: Row[] = [
  ['converted', s => String(s.converted)],
  ['skipped', s => String(s.skipped)],
  ['failed', s => String(s.failed)],
  ['bytes in', s => formatBytes(s.bytesIn)],
  ['bytes out', s => formatBytes(s.bytesOut)],
  ['bytes saved', s => s.bytesSaved < 0 ? `−${formatBytes(-s.bytesSaved)}` : formatBytes(s.bytesSaved)]
]

/** The rows of the totals table: the fixed ones, with the skips by reason after `skipped`. */
function rows (stats: StatsReport): Row[] {
  const reasons = [
    ...new Set([...Object.keys(stats.skippedByReason), ...Object.keys(stats.last7Days.skippedByReason)])
  ].sort()
  const byReason = reasons.map((code): Row => [`skipped: ${code}`, s => String(s.skippedByReason[code] ?? 0)])
  const at = ROWS.findIndex(r => r[0] === 'skipped') + 1
  return [...ROWS.slice(0, at), ...byReason, ...ROWS.slice(at)]
}

/**
 * Statistics of the jobs this node owned (`ffmesh stats` on it): converted, skipped by reason,
 * failed, bytes in, out and saved, conversion time per node, in total and for the last 7 days,
 * and a chart of the bytes saved per day.
 */
export function createStatsView (ctx: ViewContext): View {
  const { store } = ctx
  const totals = h('tbody')
  const nodes = h('tbody')
  const chart = createDayChart()
  const loading = h('p', { class: 'empty' }, 'Loading…')
  const body = h(
    'div',
    { hidden: true },
    chart.root,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stats-totals' },
        h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'total'), h('th', null, 'last 7 days'))),
        totals
      )
    ),
    h('h3', null, 'Conversion time per node'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stats-nodes' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'node'),
            h('th', null, 'units'),
            h('th', null, 'time'),
            h('th', null, 'last 7 days')
          )
        ),
        nodes
      )
    )
  )
  const root = h(
    'section',
    { class: 'page stats-page' },
    h('h2', null, 'Statistics'),
    h('p', { class: 'summary' }, "jobs this node owned; a unit's time runs from its lease to its verification"),
    loading,
    body
  )
  store.watchStats(true)

  return {
    root,
    update () {
      const stats = store.state.stats
      setAttr(loading, 'hidden', stats != null)
      setAttr(body, 'hidden', stats == null)
      if (stats == null) return
      chart.update(stats.byDay)
      keyed(totals, rows(stats), r => r[0], () => h('tr', null, h('th'), h('td'), h('td')), (tr, [label, value]) => {
        setAttr(tr, 'data-row', label)
        const [name, total, week] = [...tr.children] as HTMLElement[]
        setText(name as HTMLElement, label)
        setText(total as HTMLElement, value(stats))
        setText(week as HTMLElement, value(stats.last7Days))
      })
      const names = store.names()
      replace(nodes, ...(stats.byNode.length === 0
        ? [h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No unit converted yet.'))]
        : stats.byNode.map(n => h('tr', null,
          h('td', null, n.name ?? names.get(n.id) ?? shortId(n.id)),
          h('td', null, n.units),
          h('td', null, formatDuration(n.seconds * 1000)),
          h('td', null, formatDuration((stats.last7Days.byNode.find(w => w.id === n.id)?.seconds ?? 0) * 1000))))))
    },
    dispose () { store.watchStats(false) }
  }
}
