import { isJobState } from '../job-states.js'
import { h, replace, setAttr, setText } from '../dom.js'
import { createJobView } from './job.js'
import { createJobsView } from './jobs.js'
import { createLibrariesView } from './libraries.js'
import { createMeshView } from './mesh.js'
import { createStatsView } from './stats.js'
import type { View, ViewContext } from './view.js'
import { createWatchesView } from './watches.js'

/** The folders page: libraries, then watched folders. */
function createFoldersView (ctx: ViewContext): View {
  const parts = [createLibrariesView(ctx), createWatchesView(ctx)]
  return {
    root: h('section', { class: 'page folders-page' }, ...parts.map(p => p.root)),
    update () {
      for (const p of parts) p.update()
    }
  }
}

/**
 * The page for a location hash: `#/` mesh, `#/jobs[?state=S]`, `#/jobs/<id>`, `#/folders`
 * (libraries and watched folders; `#/watches` too), `#/stats`.
 */
function viewFor (ctx: ViewContext, hash: string): { view: View, tab: string } {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter(p => p !== '')
  if (parts[0] === 'jobs' && parts[1] != null) {
    return { view: createJobView(ctx, decodeURIComponent(parts[1])), tab: 'jobs' }
  }
  if (parts[0] === 'jobs') {
    const state = new URLSearchParams(query).get('state')
    return { view: createJobsView(ctx, isJobState(state) ? state : null), tab: 'jobs' }
  }
  if (parts[0] === 'folders' || parts[0] === 'watches') return { view: createFoldersView(ctx), tab: 'folders' }
  if (parts[0] === 'stats') return { view: createStatsView(ctx), tab: 'stats' }
  return { view: createMeshView(ctx), tab: 'mesh' }
}

/** The frame around every page: the node's name, the tabs, whether events are live, sign-out. */
export function createShell (
  ctx: ViewContext,
  init: { onSignOut: (() => void) | null }
): { root: HTMLElement; dispose(): void } {
  const { store } = ctx
  const nodeName = h('span', { class: 'node-name' })
  const connection = h('span', { class: 'connection', role: 'status' })
  const problem = h('p', { class: 'load-error', role: 'alert', hidden: true })
  const tabs = new Map(
    [
      ['mesh', '#/'],
      ['jobs', '#/jobs'],
      ['folders', '#/folders'],
      ['stats', '#/stats']
    ].map(([name, href]) => [name as string, h('a', { href: href as string, class: 'tab' }, name as string)])
  )
  const main = h('main')
  const root = h(
    'div',
    { class: 'shell' },
    h(
      'header',
      null,
      h('h1', null, 'ffmesh ', nodeName),
      h('nav', null, ...tabs.values()),
      connection,
      init.onSignOut != null
        ? h('button', { type: 'button', class: 'sign-out', onclick: init.onSignOut }, 'Sign out')
        : null
    ),
    problem,
    main
  )

  let current: View | null = null
  const route = (): void => {
    // The old page lets go first: what it set in the store (a filter, a held job) is then the new page's to set.
    current?.dispose?.()
    const { view, tab } = viewFor(ctx, location.hash)
    current = view
    for (const [name, a] of tabs) setAttr(a, 'aria-current', name === tab ? 'page' : null)
    replace(main, view.root)
    view.update()
  }
  const redraw = (): void => {
    const { state } = store
    setText(nodeName, state.info?.name ?? '')
    setText(
      connection,
      state.connection === 'live' ? 'live' : state.connection === 'connecting' ? 'connecting…' : 'reconnecting…'
    )
    setAttr(connection, 'data-state', state.connection)
    setText(problem, state.loadError ?? '')
    setAttr(problem, 'hidden', state.loadError == null)
    current?.update()
  }
  window.addEventListener('hashchange', route)
  const unsubscribe = store.subscribe(redraw)
  route()
  redraw()
  return {
    root,
    dispose () {
      window.removeEventListener('hashchange', route)
      current?.dispose?.()
      unsubscribe()
    }
  }
}
