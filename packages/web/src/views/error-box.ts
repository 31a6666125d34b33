import type { ErrorBody } from '@ffmesh/protocol'
import { adviceFor } from '../advice.js'
import { ApiError } from '../api.js'
import { h, replace, type Child } from '../dom.js'

/** `a \`b\` c` → text with the back-quoted parts as <code>, as the docs write commands. */
export function withCode (text: string): Child[] {
  return text.split('`').map((part, i) => i % 2 === 1 ? h('code', null, part) : part)
}

/**
 * An error as the node gave it: its code, its message, and the advice of docs/errors.md. A skip
 * reason (ALREADY_TARGET, NO_SAVING, ...) is shown the same way but is no alarm.
 */
export function errorBox (
  error: ErrorBody | { code: string; message: string },
  kind: 'error' | 'skipped' = 'error'
): HTMLElement {
  const advice = adviceFor(error.code)
  return h(
    'div',
    { class: kind, role: kind === 'error' ? 'alert' : null, 'data-code': error.code },
    h('p', null, h('code', { class: 'code' }, error.code), ' ', error.message),
    advice != null ? h('p', { class: 'advice' }, ...withCode(advice)) : null
  )
}

/**
 * Shows in `target` why an action failed (the node's code and advice), or clears it when `err` is
 * null. Anything that is not the node's answer is a bug of the page: INTERNAL.
 */
export function showError (target: HTMLElement, err: unknown): void {
  if (err == null) replace(target)
  else replace(target, errorBox(err instanceof ApiError ? err : { code: 'INTERNAL', message: String(err) }))
}
