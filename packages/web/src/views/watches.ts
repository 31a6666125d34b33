import type { WatchRequest, WatchStatus } from '@ffmesh/protocol'
import { h, keyed, setAttr, setText } from '../dom.js'
import { API } from '../routes.js'
import { showError } from './error-box.js'
import { addForm, folderSection, pathInput } from './folder-section.js'
import { actionButton, type View, type ViewContext } from './view.js'

/** Watched folders of this node: files that settle there are submitted with a profile. */
export function createWatchesView (ctx: ViewContext): View {
  const { store, api } = ctx
  const list = h('ul', { class: 'watches' })
  const empty = h('p', { class: 'empty' }, 'No watched folders on this node.')
  const path = pathInput('path', '/srv/inbox', true)
  const profile = h('select', { name: 'profile', required: true })
  const output = pathInput('output', '/srv/converted', true)
  const recursive = h('input', { name: 'recursive', type: 'checkbox', checked: true })
  const report = (target: HTMLElement) => (err: unknown): void => { showError(target, err) }
  const form = addForm({
    class: 'watch-form',
    button: 'Watch',
    fields: [
      h('label', null, 'Folder ', path),
      h('label', null, 'Profile ', profile),
      h('label', null, 'Output folder ', output),
      h('label', { class: 'check' }, recursive, ' include subfolders')
    ],
    submit: async () => {
      const body: WatchRequest = {
        path: path.value.trim(),
        profile: profile.value,
        output: output.value.trim(),
        recursive: recursive.checked
      }
      await api.send('POST', API.addWatch, body)
      path.value = ''
      await store.refreshWatches()
    }
  })
  const root = folderSection({
    class: 'watches-section',
    title: 'Watched folders',
    addLabel: 'Watch a folder on this node',
    form,
    empty,
    list
  })

  function create (w: WatchStatus): HTMLElement {
    const problem = h('div', { class: 'action-error' })
    const remove = actionButton('Stop watching', 'act-remove danger', report(problem), async () => {
      await api.send('DELETE', API.removeWatch, { path: w.path })
      await store.refreshWatches()
    })
    const el = h(
      'li',
      { class: 'card watch' },
      h('h3', { class: 'path' }),
      h('p', { class: 'meta' }),
      h('p', { class: 'reason' }),
      h('div', { class: 'actions' }, remove, problem)
    )
    setAttr(el, 'data-path', w.path)
    return el
  }

  function update (el: HTMLElement, w: WatchStatus): void {
    const [title, meta, reason] = [...el.children] as HTMLElement[]
    setText(title as HTMLElement, w.path)
    setAttr(el, 'data-state', w.state)
    setText(
      meta as HTMLElement,
      `${w.profile} → ${w.output} · ${w.recursive ? 'with subfolders' : 'this folder only'} · ${w.state} · ${w.submitted.length} submitted, ${w.skipped.length} skipped`
    )
    setText(reason as HTMLElement, w.reason ?? '')
    setAttr(reason as HTMLElement, 'hidden', w.reason == null)
  }

  return {
    root,
    update () {
      keyed(
        profile,
        store.state.profiles,
        p => p.name,
        p => h('option', { value: p.name }, `${p.name} (${p.kind})`),
        () => {}
      )
      setAttr(empty, 'hidden', store.state.watches.length > 0)
      keyed(list, store.state.watches, w => w.path, create, update)
    }
  }
}
