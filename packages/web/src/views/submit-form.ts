import type { SubmitRequest } from '@ffmesh/protocol'
import { h, keyed, replace, setAttr, setText } from '../dom.js'
import { API } from '../routes.js'
import { showError } from './error-box.js'
import type { ViewContext } from './view.js'

/**
 * Submit a file that is on this node's machine (the dashboard's node owns the job, as with
 * `ffmesh submit` there). Paths are absolute: the node never guesses a folder.
 */
export function createSubmitForm (ctx: ViewContext): { root: HTMLElement, update(): void } {
  const source = h('input', {
    name: 'source',
    type: 'text',
    required: true,
    placeholder: '/srv/media/movie.mkv',
    autocomplete: 'off',
    spellcheck: false
  })
  const profile = h('select', { name: 'profile', required: true })
  const outDir = h('input', {
    name: 'outDir',
    type: 'text',
    placeholder: 'beside the source',
    autocomplete: 'off',
    spellcheck: false
  })
  const handoff = h('input', { name: 'handoff', type: 'checkbox' })
  const button = h('button', { type: 'submit' }, 'Submit')
  const result = h('div', { class: 'form-result', 'aria-live': 'polite' })

  const form: HTMLFormElement = h(
    'form',
    {
      class: 'submit-form',
      onsubmit: (e: Event) => {
        e.preventDefault()
        void submit()
      }
    },
    h('label', null, 'File ', source),
    h('label', null, 'Profile ', profile),
    h('label', null, 'Output folder ', outDir),
    h('label', { class: 'check' }, handoff, ' hand the whole job to the freest node'),
    h('div', { class: 'form-actions' }, button),
    result
  )

  async function submit (): Promise<void> {
    button.disabled = true
    try {
      const body: SubmitRequest = { source: source.value.trim(), profile: profile.value }
      if (outDir.value.trim() !== '') body.outDir = outDir.value.trim()
      if (handoff.checked) body.handoff = true
      const { id } = await ctx.api.send<{ id: string }>('POST', API.submit, body)
      ctx.store.refreshJob(id)
      source.value = ''
      replace(result, h('p', { class: 'ok' }, 'Submitted: ', h('a', { href: `#/jobs/${encodeURIComponent(id)}` }, id)))
    } catch (err) {
      showError(result, err)
    } finally {
      button.disabled = false
    }
  }

  // Folded away by default: on a phone the list matters more than the form.
  const root = h('details', { class: 'card submit' }, h('summary', null, 'Convert a file on this node'), form)
  return {
    root,
    // Profiles arrive with the first load: the list follows the node's.
    update () {
      keyed(profile, ctx.store.state.profiles, p => p.name, p => h('option', { value: p.name }), (el, p) => {
        setText(el, `${p.name} (${p.kind})`)
        setAttr(el, 'value', p.name)
      })
    }
  }
}
