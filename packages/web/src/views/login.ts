import type { UiSession } from '@ffmesh/protocol'
import type { Api } from '../api.js'
import { h } from '../dom.js'
import { UI } from '../routes.js'
import { showError } from './error-box.js'

/** The sign-in form of a dashboard with a password (`ffmesh ui password`). */
export function createLoginView (api: Api, onSignedIn: (session: UiSession) => void): HTMLElement {
  const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' })
  const button = h('button', { type: 'submit' }, 'Sign in')
  const result = h('div', { class: 'form-result', 'aria-live': 'polite' })
  return h('section', { class: 'page login-page' },
    h('form', {
      class: 'card login',
      onsubmit: async (e: Event) => {
        e.preventDefault()
        button.disabled = true
        try {
          const session = await api.send<UiSession>('POST', UI.login, { password: password.value })
          password.value = ''
          onSignedIn(session)
        } catch (err) {
          showError(result, err)
        } finally {
          button.disabled = false
        }
      }
    },
    h('h2', null, 'Sign in to ffmesh'),
    h('p', null, 'This dashboard has a password, set on its node with ', h('code', null, 'ffmesh ui password'), '.'),
    h('label', null, 'Password ', password),
    h('div', { class: 'form-actions' }, button),
    result))
}
