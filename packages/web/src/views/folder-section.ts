import { h, type Child } from '../dom.js'
import { showError } from './error-box.js'
import { runAction } from './view.js'

/** An absolute path typed by a person: no autocomplete or spell checking. */
export function pathInput (name: string, placeholder: string, required: boolean): HTMLInputElement {
  return h('input', { name, type: 'text', required, placeholder, autocomplete: 'off', spellcheck: false })
}

/**
 * A section of the folders page: its title, a folded form to add one (on a phone the list matters
 * more than the form), the text shown while the list is empty, and the list.
 */
export function folderSection (init: {
  class: string
  title: string
  addLabel: string
  form: HTMLFormElement
  empty: HTMLElement
  list: HTMLElement
}): HTMLElement {
  return h(
    'section',
    { class: init.class },
    h('h2', null, init.title),
    h('details', { class: 'card submit' }, h('summary', null, init.addLabel), init.form),
    init.empty,
    init.list
  )
}

/**
 * The form that adds a folder: its fields, a submit button, and under it the node's error with
 * its advice when the node refuses (the node checks every field; the page does not guess).
 */
export function addForm (init: {
  class: string
  button: string
  fields: Child[]
  submit: () => Promise<void>
}): HTMLFormElement {
  const add = h('button', { type: 'submit' }, init.button)
  const result = h('div', { class: 'form-result', 'aria-live': 'polite' })
  return h(
    'form',
    {
      class: init.class,
      onsubmit: (e: Event) => {
        e.preventDefault()
        void runAction(
          add,
          err => {
            showError(result, err)
          },
          init.submit
        )
      }
    },
    ...init.fields,
    h('div', { class: 'form-actions' }, add),
    result
  )
}
