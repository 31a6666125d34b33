import type { Api } from '../api.js'
import { h } from '../dom.js'
import type { Store } from '../store.js'

/** A page of the dashboard: built once when it is opened, updated in place on every change. */
export interface View {
  readonly root: HTMLElement
  update(): void
  /** Runs when the page is left (stops what it asked the store to keep fresh). */
  dispose?(): void
}

export interface ViewContext {
  store: Store
  api: Api
}

/**
 * Runs an action of a button: disables it meanwhile and reports the error next to it, so a tap
 * that fails says why (with the code's advice) instead of doing nothing.
 */
export async function runAction (
  button: HTMLButtonElement,
  report: (err: unknown) => void,
  action: () => Promise<unknown>
): Promise<void> {
  button.disabled = true
  try {
    await action()
    report(null)
  } catch (err) {
    report(err)
  } finally {
    button.disabled = false
  }
}

/** A button that runs `action` with runAction: disabled meanwhile, its error reported. */
export function actionButton (
  label: string,
  cls: string,
  report: (err: unknown) => void,
  action: () => Promise<unknown>
): HTMLButtonElement {
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: cls,
      onclick: () => {
        void runAction(button, report, action)
      }
    },
    label
  )
  return button
}
