import { h, replace } from '../dom.js'
import type { JobView } from '../store.js'
import { errorBox } from './error-box.js'

/**
 * What a job has to say beyond its progress: its error, why it was skipped, or that it is held
 * for records the job log lost. Each code comes with the advice of docs/errors.md. Rebuilt only
 * when one of them changes, so a redraw every second does not replace the boxes.
 */
export function createJobProblems (): { root: HTMLElement, update(job: JobView): void } {
  const root = h('div', { class: 'job-error' })
  let key = ''
  return {
    root,
    update (job) {
      const reason = job.state === 'skipped' ? job.reason ?? null : null
      const attention = job.attention ?? null
      const next = JSON.stringify([job.error, reason, attention])
      if (next === key) return
      key = next
      replace(
        root,
        job.error != null ? errorBox(job.error) : null,
        reason != null ? errorBox(reason, 'skipped') : null,
        attention != null
          ? h(
              'div',
              { class: 'attention', role: 'alert' },
              h('p', null, h('strong', null, 'Needs attention: '), attention),
              h(
                'p',
                { class: 'advice' },
                'The node holds this job and does not run it by itself. Retry runs it again (verified units are kept); Remove removes it.'
              )
            )
          : null
      )
    }
  }
}
