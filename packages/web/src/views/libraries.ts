import type { KindProfiles, LibraryRequest, LibraryStatus, MediaKind, ScanReport, ScanRequest } from '@ffmesh/protocol'
import { h, keyed, setAttr, setText } from '../dom.js'
import { formatAgo } from '../format.js'
import { API } from '../routes.js'
import { showError } from './error-box.js'
import { addForm, folderSection, pathInput } from './folder-section.js'
import { actionButton, type View, type ViewContext } from './view.js'

const KINDS: readonly MediaKind[] = ['video', 'audio', 'image']

/** `video → h265, audio → opus`. */
function profilesText (profiles: KindProfiles): string {
  return KINDS.filter(k => profiles[k] != null).map(k => `${k} → ${profiles[k] as string}`).join(', ')
}

/** A scan's counts in words, as `ffmesh scan` prints them. */
function scanText (r: { found: number, submitted: number, skipped: number, failed: number }): string {
  return `${r.found} found, ${r.submitted} queued, ${r.skipped} skipped, ${r.failed} failed`
}

/** What a scan of a library sends: the library's own settings, as a one-shot pass (`ffmesh scan`). */
function scanOf (l: LibraryStatus): ScanRequest {
  return {
    path: l.path,
    profiles: l.profiles,
    ...(l.replace ? { replace: true } : { output: l.output }),
    include: l.include,
    exclude: l.exclude,
    rules: l.rules
  }
}

/**
 * Libraries of this node: folder trees with a profile per media type, rescanned by the node; add
 * one, remove one, or scan one now. Skipped files show on the jobs page with their reason.
 */
export function createLibrariesView (ctx: ViewContext): View {
  const { store, api } = ctx
  const list = h('ul', { class: 'libraries' })
  const empty = h('p', { class: 'empty' }, 'No libraries on this node.')
  const path = pathInput('library-path', '/srv/media', true)
  const selects = new Map(KINDS.map(k => [k, h('select', { name: `profile-${k}` })]))
  const output = pathInput('library-output', '/srv/converted', false)
  const replaceBox = h('input', { name: 'library-replace', type: 'checkbox' })
  const report = (target: HTMLElement) => (err: unknown): void => { showError(target, err) }
  const form = addForm({
    class: 'library-form',
    button: 'Add library',
    fields: [
      h('label', null, 'Folder ', path),
      ...[...selects].map(([kind, select]) => h('label', null, `${kind} profile `, select)),
      h('label', null, 'Output folder ', output),
      h('label', { class: 'check' }, replaceBox, ' replace the originals instead (they go to .ffmesh-trash/ first)')
    ],
    submit: async () => {
      const profiles: KindProfiles = {}
      for (const [kind, select] of selects) if (select.value !== '') profiles[kind] = select.value
      const out = output.value.trim()
      // The node says what is wrong with an empty choice (BAD_ARGUMENTS, with the fix).
      const body: LibraryRequest = {
        path: path.value.trim(),
        profiles,
        replace: replaceBox.checked,
        ...(out !== '' ? { output: out } : {})
      }
      await api.send('POST', API.addLibrary, body)
      path.value = ''
      await store.refreshLibraries()
    }
  })
  const root = folderSection({
    class: 'libraries-section',
    title: 'Libraries',
    addLabel: 'Add a library on this node',
    form,
    empty,
    list
  })

  function create (l: LibraryStatus): HTMLElement {
    const problem = h('div', { class: 'action-error' })
    const scanned = h('p', { class: 'scan-result', hidden: true })
    const scan = actionButton('Scan now', 'act-scan', report(problem), async () => {
      const current = store.state.libraries.find(x => x.path === l.path) ?? l
      const r = await api.send<ScanReport>('POST', API.scan, scanOf(current))
      setText(
        scanned,
        `Scanned now: ${scanText({ found: r.found, submitted: r.submitted.length, skipped: r.skipped.length, failed: r.failed.length })}`
      )
      setAttr(scanned, 'hidden', false)
    })
    const remove = actionButton('Remove library', 'act-remove danger', report(problem), async () => {
      await api.send('DELETE', API.removeLibrary, { path: l.path })
      await store.refreshLibraries()
    })
    const el = h(
      'li',
      { class: 'card library' },
      h('h3', { class: 'path' }),
      h('p', { class: 'meta' }),
      h('p', { class: 'last-scan' }),
      h('p', { class: 'reason' }),
      scanned,
      h('div', { class: 'actions' }, scan, remove, problem)
    )
    setAttr(el, 'data-path', l.path)
    return el
  }

  function update (el: HTMLElement, l: LibraryStatus): void {
    const [title, meta, lastScan, reason] = [...el.children] as HTMLElement[]
    setText(title as HTMLElement, l.path)
    setAttr(el, 'data-state', l.state)
    const where = l.replace ? 'replacing the originals' : `into ${l.output ?? '?'}`
    setText(meta as HTMLElement, `${profilesText(l.profiles)} · ${where} · ${l.state}`)
    setText(
      lastScan as HTMLElement,
      l.lastScan == null
        ? 'not scanned yet'
        : `last scan ${formatAgo(l.lastScan.at, Date.now())}: ${scanText(l.lastScan)}`
    )
    setText(reason as HTMLElement, l.reason ?? '')
    setAttr(reason as HTMLElement, 'hidden', l.reason == null)
  }

  return {
    root,
    update () {
      for (const [kind, select] of selects) {
        const options = [
          { name: '', label: 'none' },
          ...store.state.profiles.filter(p => p.kind === kind).map(p => ({ name: p.name, label: p.name }))
        ]
        keyed(select, options, o => o.name, o => h('option', { value: o.name }, o.label), () => {})
      }
      setAttr(empty, 'hidden', store.state.libraries.length > 0)
      keyed(list, store.state.libraries, l => l.path, create, update)
    }
  }
}

