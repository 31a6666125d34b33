import { JobStates, unitsLetGo, type JobState } from '../job-states.js'
import { h, keyed, setAttr, setText } from '../dom.js'
import { baseName, formatAgo, formatPercent, shortId } from '../format.js'
import type { JobView } from '../store.js'
import { createJobActions, type JobActions } from './job-actions.js'
import { createJobProblems } from './job-problems.js'
import { createSubmitForm } from './submit-form.js'
import type { View, ViewContext } from './view.js'

interface Row {
  el: HTMLLIElement
  name: HTMLAnchorElement
  state: HTMLElement
  meta: HTMLElement
  bar: HTMLProgressElement
  pct: HTMLElement
  waiting: HTMLElement
  problems: ReturnType<typeof createJobProblems>
  actions: JobActions
}

/** Jobs across the mesh, filtered by state; skipped ones with their reason, failed ones with their error. */
export function createJobsView (ctx: ViewContext, filter: JobState | null): View {
  const { store } = ctx
  const rows = new WeakMap<Element, Row>()
  // Node names, read once per redraw rather than once per row.
  let names = new Map<string, string>()
  // The listing holds this state's jobs only, so older ones past its limit show too.
  store.watchJobs(filter)
  const select: HTMLSelectElement = h('select', {
    name: 'state',
    'aria-label': 'Show jobs in state',
    onchange: () => { location.hash = select.value === '' ? '#/jobs' : `#/jobs?state=${select.value}` }
  })
  const options = [h('option', { value: '' }, 'all states'), ...JobStates.map(s => h('option', { value: s }, s))]
  select.append(...options)
  select.value = filter ?? ''
  const summary = h('p', { class: 'summary' }, 'jobs of every node in the mesh')
  const uncountedNote = h('p', { class: 'uncounted', hidden: true })
  const list = h('ul', { class: 'jobs' })
  const empty = h('p', { class: 'empty', hidden: true })
  const form = createSubmitForm(ctx)
  const root = h('section', { class: 'page jobs-page' },
    h('h2', null, 'Jobs'),
    form.root,
    h('div', { class: 'toolbar' }, h('label', null, 'Show ', select), summary),
    uncountedNote,
    empty,
    list)

  function create (job: JobView): HTMLLIElement {
    const row: Row = {
      el: h('li', { class: 'job' }),
      name: h('a', { class: 'job-name' }),
      state: h('span', { class: 'badge state' }),
      meta: h('p', { class: 'meta' }),
      bar: h('progress', { max: 1, value: 0 }),
      pct: h('span', { class: 'pct' }),
      waiting: h('p', { class: 'waiting' }),
      problems: createJobProblems(),
      actions: createJobActions(ctx)
    }
    row.el.append(
      h('div', { class: 'job-head' }, row.name, row.state),
      row.meta,
      h('div', { class: 'progress' }, row.bar, row.pct),
      row.waiting,
      row.problems.root,
      row.actions.root)
    setAttr(row.el, 'data-id', job.id)
    rows.set(row.el, row)
    return row.el
  }

  function update (el: HTMLLIElement, job: JobView): void {
    const row = rows.get(el) as Row
    setAttr(row.el, 'data-state', job.state)
    setAttr(row.name, 'href', `#/jobs/${encodeURIComponent(job.id)}`)
    setAttr(row.name, 'title', job.source)
    setText(row.name, baseName(job.source))
    setText(row.state, job.state)
    setAttr(row.state, 'data-state', job.state)
    const verified = job.units.filter(u => u.state === 'verified').length
    const units = unitsLetGo(job) ? '' : ` · units ${verified}/${job.units.length}`
    const owner = job.ownerName !== '' ? job.ownerName : names.get(job.owner) ?? shortId(job.owner)
    setText(
      row.meta,
      `${job.profile} · owner ${owner}${job.ownerAway ? ' (away)' : ''} · ${shortId(job.id)}${units} · ${formatAgo(job.updatedAt, Date.now())}`
    )
    row.bar.value = job.progress
    setText(row.pct, formatPercent(job.progress))
    setText(row.waiting, job.waiting ?? '')
    setAttr(row.waiting, 'hidden', job.waiting == null)
    row.problems.update(job)
    row.actions.update(job)
  }

  return {
    root,
    dispose () { store.unwatchJobs() },
    update () {
      form.update()
      const all = store.jobList()
      const shown = filter == null ? all : all.filter(j => j.state === filter)
      // The mesh's own counts, which go past the listing's limit; the listing's until they are read.
      const counts = store.state.counts
      const count = (state: JobState | null): number =>
        counts != null
          ? state == null ? counts.total : counts.byState[state]
          : state == null ? all.length : all.filter(j => j.state === state).length
      options.forEach((o, i) => {
        const state = i === 0 ? null : JobStates[i - 1] as JobState
        setText(o, `${state ?? 'all states'} (${count(state)})`)
      })
      const total = count(filter)
      const what = filter == null ? 'jobs' : `${filter} jobs`
      setText(
        summary,
        store.state.jobsCapped && total > shown.length
          ? `the newest ${shown.length} of ${total} ${what} of every node in the mesh`
          : `${what} of every node in the mesh`
      )
      const uncounted = counts?.uncounted ?? []
      setText(uncountedNote, uncounted.length > 0 ? `Not counted: ${uncounted.join(', ')} (no answer, or an older version).` : '')
      setAttr(uncountedNote, 'hidden', uncounted.length === 0)
      setText(
        empty,
        !store.state.jobsLoaded
          ? 'Loading…'
          : filter == null
            ? 'No jobs yet. Submit a file above, or add a watched folder.'
            : `No ${filter} jobs.`
      )
      setAttr(empty, 'hidden', store.state.jobsLoaded && shown.length > 0)
      names = store.names()
      keyed(list, shown, j => j.id, create, update)
    }
  }
}
