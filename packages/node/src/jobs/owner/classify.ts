import type { ErrorBody, Profile } from '@ffmesh/protocol'
import { probeRule, sizeRule } from '../../library/rules.js'
import type { JobRecord } from '../../store/records.js'
import type { JobComponents } from '../shared/deps.js'
import { recordEvent } from '../shared/record-event.js'
import { profileTable } from './profile-table.js'
import { assertSourceUnchanged } from './source-check.js'

/**
 * The first step of a library job's plan: its rules, then a probe, then the rules that need the
 * probe. A scan queues jobs without probing (thousands would take minutes); the owner plans a few
 * at a time, so probes run with the same bound. Returns the job ready to plan, or null when it
 * ended `skipped`. A source that is not media or does not fit fails the job as a submit would.
 */
export async function classifyJob (
  c: JobComponents,
  job: JobRecord,
  options: { signal?: AbortSignal } = {}
): Promise<JobRecord | null> {
  const library = job.library
  if (job.info != null || library == null) return job
  const early = sizeRule(job.sourceSize, library.rules)
  if (early != null) return await skipJob(c, job, early)
  await assertSourceUnchanged(job, 'after the scan queued it')
  const info = await c.media.probeSource(job.source, options)
  const named = library.profiles[info.kind]
  const profile: Profile = (named != null ? profileTable(c.config.profiles).get(named) : undefined) ?? job.profile
  c.media.checkProfileFits(info, profile)
  const probed = { type: 'job:probed' as const, info, ...(profile.name !== job.profile.name ? { profile } : {}) }
  await recordEvent(c, job.id, probed, { data: { kind: info.kind, profile: profile.name } })
  const reason = probeRule(job.source, job.sourceSize, info, profile, library.rules)
  if (reason != null) return await skipJob(c, job, reason)
  return c.store.job(job.id)?.job ?? null
}

/** Ends a job `skipped` with its reason (a rule said the work is not worth doing). */
export async function skipJob (
  c: JobComponents,
  job: JobRecord,
  reason: ErrorBody,
  outputSize?: number
): Promise<null> {
  await recordEvent(c, job.id, { type: 'job:skipped', reason, ...(outputSize != null ? { outputSize } : {}) }, {
    data: { ...reason }
  })
  c.logger.debug({ jobId: job.id, code: reason.code }, 'job skipped')
  return null
}
