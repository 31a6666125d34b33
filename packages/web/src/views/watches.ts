import type { WatchRequest, WatchStatus } from '@ffmesh/protocol'
import { h, keyed, setAttr, setText } from '../dom.js'
import { API } from '../routes.js'
import { showError } from './error-box.js'
import { runAction, type View, type ViewContext } from './view.js'

/** Watched folders of this node: files that settle there are submitted with a profile. */
export function createWatchesView (ctx: ViewContext): View {
  const { store, api } = ctx
  const list = h('ul', { class: 'watches' })
  const empty = h('p', { class: 'empty' }, 'No watched folders on this node.')
  const path = h('input', { name: 'path', type: 'text', required: true, placeholder: '/srv/inbox', autocomplete: 'off', spellcheck: false })
  const profile = h('select', { name: 'profile', required: true })
  const output = h('input', { name: 'output', type: 'text', required: true, placeholder: '/srv/converted', autocomplete: 'off', spellcheck: false })
  const recursive = h('input', { name: 'recursive', type: 'checkbox', checked: true })
  const add = h('button', { type: 'submit' }, 'Watch')
  const result = h('div', { class: 'form-result', 'aria-live': 'polite' })
  const report = (target: HTMLElement) => (err: unknown): void => { showError(target, err) }
  const form = h('form', {
    class: 'watch-form',
    onsubmit: (e: Event) => {
      e.preventDefault()
      void runAction(add, report(result), async () => {
        const body: WatchRequest = { path: path.value.trim(), profile: profile.value, output: output.value.trim(), recursive: recursive.checked }
        await api.send('POST', API.addWatch, body)
        path.value = ''
        await store.refreshWatches()
      })
    }
  },
  h('label', null, 'Folder ', path),
  h('label', null, 'Profile ', profile),
  h('label', null, 'Output folder ', output),
  h('label', { class: 'check' }, recursive, ' include subfolders'),
  h('div', { class: 'form-actions' }, add),
  result)
  const root = h('section', { class: 'watches-section' }, h('h2', null, 'Watched folders'),
    h('details', { class: 'card submit' }, h('summary', null, 'Watch a folder on this node'), form), empty, list)

  function create (w: WatchStatus): HTMLElement {
    const problem = h('div', { class: 'action-error' })
    const remove: HTMLButtonElement = h('button', {
      type: 'button',
      class: 'act-remove danger',
      onclick: () => { void runAction(remove, report(problem), async () => { await api.send('DELETE', API.removeWatch, { path: w.path }); await store.refreshWatches() }) }
    }, 'Stop watching')
    const el = h('li', { class: 'card watch' }, h('h3', { class: 'path' }), h('p', { class: 'meta' }), h('p', { class: 'reason' }), h('div', { class: 'actions' }, remove, problem))
    setAttr(el, 'data-path', w.path)
    return el
  }

  function update (el: HTMLElement, w: WatchStatus): void {
    const [title, meta, reason] = [...el.children] as HTMLElement[]
    setText(title as HTMLElement, w.path)
    setAttr(el, 'data-state', w.state)
    setText(meta as HTMLElement, `${w.profile} → ${w.output} · ${w.recursive ? 'with subfolders' : 'this folder only'} · ${w.state} · ${w.submitted.length} submitted, ${w.skipped.length} skipped`)
    setText(reason as HTMLElement, w.reason ?? '')
    setAttr(reason as HTMLElement, 'hidden', w.reason == null)
  }

  return {
    root,
    update () {
      keyed(profile, store.state.profiles, p => p.name, p => h('option', { value: p.name }, `${p.name} (${p.kind})`), () => {})
      setAttr(empty, 'hidden', store.state.watches.length > 0)
      keyed(list, store.state.watches, w => w.path, create, update)
    }
  }
}
