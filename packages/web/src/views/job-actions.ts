import { h, setAttr } from '../dom.js'
import { API, fill } from '../routes.js'
import type { JobView } from '../store.js'
import { showError } from './error-box.js'
import { runAction, type ViewContext } from './view.js'

const ACTIVE = new Set(['queued', 'running', 'assembling'])
const ENDED = new Set(['done', 'failed', 'cancelled', 'skipped'])
/** A remove waits this long for its confirming second tap. */
const CONFIRM_MS = 4_000

export interface JobActions { root: HTMLElement, update(job: JobView): void }

/**
 * Cancel, retry and remove for one job. Only its owner can act on a job, so a job owned by another
 * node shows none (its owner's dashboard has them). Removing cannot be undone: it asks for a
 * second tap.
 */
export function createJobActions (ctx: ViewContext): JobActions {
  let job: JobView | null = null
  let confirmUntil = 0
  const problem = h('div', { class: 'action-error' })
  const report = (err: unknown): void => { showError(problem, err) }
  // A removed job leaves the page with its `job:removed` event; anything else is read again.
  const act = (button: HTMLButtonElement, method: 'POST' | 'DELETE', path: string): Promise<void> =>
    runAction(button, report, async () => {
      const id = (job as JobView).id
      await ctx.api.send(method, fill(path, { id }))
      if (method === 'POST') ctx.store.refreshJob(id)
    })
  const cancel: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'act-cancel',
      onclick: () => {
        void act(cancel, 'POST', API.cancelJob)
      }
    },
    'Cancel'
  )
  const retry: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'act-retry',
      onclick: () => {
        void act(retry, 'POST', API.retryJob)
      }
    },
    'Retry'
  )
  const remove: HTMLButtonElement = h('button', {
    type: 'button',
    class: 'act-remove danger',
    onclick: () => {
      if (Date.now() > confirmUntil) {
        confirmUntil = Date.now() + CONFIRM_MS
        remove.textContent = 'Remove for good?'
        setTimeout(() => { remove.textContent = 'Remove' }, CONFIRM_MS)
        return
      }
      confirmUntil = 0
      void act(remove, 'DELETE', API.removeJob)
    }
  }, 'Remove')
  const root = h('div', { class: 'actions' }, cancel, retry, remove, problem)

  return {
    root,
    update (next) {
      job = next
      const own = ctx.store.state.info != null && next.owner === ctx.store.state.info.id
      setAttr(cancel, 'hidden', !own || !ACTIVE.has(next.state))
      // A job held for records the log lost (`attention`) waits for a person: run it again or remove it.
      const held = next.attention != null
      setAttr(retry, 'hidden', !own || !(next.state === 'failed' || next.state === 'cancelled' || held))
      setAttr(remove, 'hidden', !own || !(ENDED.has(next.state) || held))
      setAttr(root, 'hidden', !own)
    }
  }
}
