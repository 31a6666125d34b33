import type { UnitStatus } from '@ffmesh/protocol'
import { h, keyed, replace, setAttr, setText } from '../dom.js'
import { baseName, formatBytes, formatPercent, shortId } from '../format.js'
import { unitsLetGo } from '../job-states.js'
import { createJobActions } from './job-actions.js'
import { createJobProblems } from './job-problems.js'
import { createTimeline } from './timeline-view.js'
import type { View, ViewContext } from './view.js'

/** What the page says of a done job whose units were let go: no timeline, the totals kept. */
const UNITS_LET_GO = 'let go after jobs.doneUnitsRetentionSeconds; the statistics keep their totals'

/** Bytes saved and their share of the source: "120 MB (38%)"; negative when the output came out larger. */
function saved (bytesIn: number | undefined, bytesOut: number | null | undefined): string | null {
  if (bytesIn == null || bytesOut == null) return null
  const diff = bytesIn - bytesOut
  const share = bytesIn > 0 ? ` (${Math.round((diff / bytesIn) * 100)}%)` : ''
  return `${diff < 0 ? '−' : ''}${formatBytes(Math.abs(diff))}${share}`
}

/**
 * One job: where it is, its error or skip reason with advice, its actions, its bytes, its units and
 * who converted them.
 */
export function createJobView (ctx: ViewContext, id: string): View {
  const { store } = ctx
  const title = h('h2')
  const state = h('span', { class: 'badge state' })
  const bar = h('progress', { max: 1, value: 0 })
  const pct = h('span', { class: 'pct' })
  const facts = h('dl', { class: 'facts' })
  const waiting = h('p', { class: 'waiting' })
  const problems = createJobProblems()
  const actions = createJobActions(ctx)
  const timeline = createTimeline()
  const units = h('tbody')
  const missing = h('p', { class: 'empty' })
  const body = h(
    'div',
    null,
    h('div', { class: 'job-head' }, title, state),
    h('div', { class: 'progress' }, bar, pct),
    waiting,
    problems.root,
    actions.root,
    facts,
    timeline.root,
    h(
      'section',
      { class: 'units' },
      h('h3', null, 'Units'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, '#'),
              h('th', null, 'kind'),
              h('th', null, 'state'),
              h('th', null, 'node'),
              h('th', null, 'tries'),
              h('th', null, 'progress')
            )
          ),
          units
        )
      )
    )
  )
  const root = h(
    'section',
    { class: 'page job-page' },
    h('p', null, h('a', { href: '#/jobs' }, '← all jobs')),
    missing,
    body
  )
  setAttr(root, 'data-id', id)
  // A job owned elsewhere, or older than the listing's newest, may not be in it: the store reads it.
  store.holdJob(id)

  const fact = (name: string, value: string | null): HTMLElement[] =>
    value == null ? [] : [h('dt', null, name), h('dd', null, value)]

  return {
    root,
    dispose () { store.releaseJob(id) },
    update () {
      const job = store.state.jobs.get(id)
      setAttr(body, 'hidden', job == null)
      setAttr(missing, 'hidden', job != null)
      setText(missing, store.state.jobsLoaded ? `No job ${id} here (it may have been removed).` : 'Loading…')
      if (job == null) return
      const names = store.names()
      const nameOf = (peer: string | null): string => peer == null ? '–' : names.get(peer) ?? shortId(peer)
      setText(title, baseName(job.source))
      setText(state, job.state)
      setAttr(state, 'data-state', job.state)
      setAttr(root, 'data-state', job.state)
      bar.value = job.progress
      setText(pct, formatPercent(job.progress))
      setText(waiting, job.waiting ?? '')
      setAttr(waiting, 'hidden', job.waiting == null)
      problems.update(job)
      actions.update(job)
      replace(
        facts,
        ...fact('job', job.id),
        ...fact('profile', job.profile),
        ...fact(
          'owner',
          `${job.ownerName !== '' ? job.ownerName : nameOf(job.owner)}${job.ownerAway ? ' (away: its last state)' : ''}`
        ),
        ...fact('source', job.source),
        ...fact('output', job.output),
        ...fact('source size', job.bytesIn != null ? formatBytes(job.bytesIn) : null),
        ...fact('output size', job.bytesOut != null ? formatBytes(job.bytesOut) : null),
        ...fact('saved', saved(job.bytesIn, job.bytesOut)),
        ...fact('submitted', new Date(job.createdAt).toLocaleString()),
        ...fact('updated', new Date(job.updatedAt).toLocaleString()),
        ...fact('units', unitsLetGo(job) ? UNITS_LET_GO : null)
      )
      timeline.update(job, names)
      keyed(
        units,
        job.units,
        u => String(u.index),
        () =>
          h(
            'tr',
            null,
            h('td'),
            h('td'),
            h('td'),
            h('td'),
            h('td'),
            h('td', null, h('progress', { max: 1, value: 0 }))
          ),
        (tr, u: UnitStatus) => {
          const cells = tr.children
          setAttr(tr, 'data-state', u.state)
          setText(cells[0] as Element, u.index)
          setText(cells[1] as Element, u.kind)
          setText(cells[2] as Element, u.state)
          setText(cells[3] as Element, nameOf(u.worker))
          setText(cells[4] as Element, u.attempts)
          const progress = (cells[5] as Element).firstElementChild as HTMLProgressElement
          progress.value = u.progress
          setAttr(progress, 'title', formatPercent(u.progress))
        }
      )
    }
  }
}
