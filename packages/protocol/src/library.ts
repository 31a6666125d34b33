import { z } from 'zod'
import type { ErrorBody } from './errors.js'
import { JOB_ID_PREFIX_PATTERN, MAX_NAME_LENGTH } from './limits.js'
import { unlessEmpty } from './query.js'
import { JobStates, type JobState } from './units.js'

/**
 * Libraries: a folder tree with a profile per media type, its rules and where outputs go. The same
 * schema reads config.yaml's `libraries:` and `ffmesh library add`; `ffmesh scan` sends one as a
 * one-shot library.
 */
export const MediaKinds = ['video', 'audio', 'image'] as const
export type MediaKind = typeof MediaKinds[number]

/** Reasons a library job ends `skipped`; each is also an error code documented in docs/errors.md. */
export const SkipReasons = ['ALREADY_TARGET', 'NO_SAVING', 'BELOW_MIN_SIZE', 'BELOW_MIN_BITRATE', 'UNCHANGED'] as const
export type SkipReason = typeof SkipReasons[number]

const profileName = z.string().min(1).max(MAX_NAME_LENGTH)

export const KindProfilesSchema = z.strictObject({
  video: profileName.optional(),
  audio: profileName.optional(),
  image: profileName.optional()
}).refine(p => p.video != null || p.audio != null || p.image != null, 'give at least one profile, such as video=h265')
export type KindProfiles = z.infer<typeof KindProfilesSchema>

/** Rules checked before any work (and, for the saving, after verification). */
export const LibraryRulesSchema = z.strictObject({
  /** Sources smaller than this (bytes) are skipped with BELOW_MIN_SIZE. */
  minSize: z.number().int().min(0).default(0),
  /** Sources below this overall bit rate (kb/s) are skipped with BELOW_MIN_BITRATE; 0 checks nothing. */
  minBitrateKbps: z.number().min(0).default(0),
  /**
   * An output that saves less than this share of the source's size is discarded after verification
   * and the original kept (NO_SAVING). 0 still discards an output as large as its source or larger.
   */
  minSavingPercent: z.number().min(0).max(100).default(0),
  /**
   * Every verified output is kept, even one as large as its source or larger: for a tree made for a
   * device (SDR H.264 copies for a phone) rather than to save space, which would otherwise lack
   * every file whose copy came out larger.
   */
  keepLarger: z.boolean().default(false)
}).superRefine((rules, ctx) => {
  if (rules.keepLarger && rules.minSavingPercent > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['keepLarger'],
      message: 'keepLarger keeps every output whatever it saves; leave out minSavingPercent (--min-saving) with it'
    })
  }
})
export type LibraryRules = z.infer<typeof LibraryRulesSchema>

const libraryFields = {
  path: z.string().min(1).max(4096),
  profiles: KindProfilesSchema,
  /** Output root: the relative path under `path` is mirrored under it. */
  output: z.string().min(1).max(4096).optional(),
  /** The verified output takes the original's place; the original moves to `.ffmesh-trash/`. */
  replace: z.boolean().default(false),
  include: z.array(z.string().max(1024)).max(100).default([]),
  exclude: z.array(z.string().max(1024)).max(100).default([]),
  rules: LibraryRulesSchema.prefault({})
}

const placement = (l: { output?: string, replace: boolean }, ctx: z.RefinementCtx): void => {
  if ((l.output != null) === l.replace) {
    ctx.addIssue({
      code: 'custom',
      path: ['output'],
      message: 'give either an output folder (--out DIR) or replace: true (--replace), not both'
    })
  }
}

export const LibrarySchema = z.strictObject({
  ...libraryFields,
  /**
   * Poll every library.pollSeconds instead of waiting for change notifications (NFS and SMB mounts
   * send none).
   */
  poll: z.boolean().default(false),
  /** Seconds a new file must stay the same size before it is taken (with notifications). */
  settleSeconds: z.number().min(0).max(3600).default(5)
}).superRefine(placement)
export type LibraryConfig = z.infer<typeof LibrarySchema>
export type LibraryRequest = z.input<typeof LibrarySchema>

export const RemoveLibraryBodySchema = z.strictObject({ path: z.string().min(1).max(4096) })

/** `ffmesh scan`: a one-shot library, or a dry run that makes no job. */
export const ScanBodySchema = z.strictObject({
  ...libraryFields,
  dryRun: z.boolean().default(false)
}).superRefine(placement)
export type ScanRequest = z.input<typeof ScanBodySchema>
export type ScanBody = z.output<typeof ScanBodySchema>

/** What a dry run says about one file. */
export interface ScanPlanEntry {
  path: string
  action: 'convert' | 'skip' | 'fail'
  profile: string | null
  /** Where the output would go (convert only). */
  output: string | null
  reason: ErrorBody | null
}

/** The reply of a scan (and what `ffmesh scan --json` prints, with counts for `submitted`). */
export interface ScanReport {
  /** Tags the jobs of this scan, for `listJobs?batch=` and `jobSummary?batch=`. */
  batch: string
  /** Media files found (sidecars are not counted). */
  found: number
  submitted: Array<{ path: string, jobId: string }>
  skipped: Array<{ path: string, reason: string }>
  failed: Array<{ path: string, error: ErrorBody }>
  /** Dry run only: one entry per media file. */
  plan?: ScanPlanEntry[]
}

export interface LibraryStatus extends LibraryConfig {
  state: 'active' | 'paused' | 'scanning'
  reason: string | null
  lastScan: { at: number, found: number, submitted: number, skipped: number, failed: number } | null
}

/** Counts of one span (all time, or the last 7 days) for `ffmesh stats`. */
export interface StatsSpan {
  converted: number
  skipped: number
  skippedByReason: Record<string, number>
  failed: number
  bytesIn: number
  bytesOut: number
  bytesSaved: number
  /** Per node that converted units: units verified and the seconds from lease to verification. */
  byNode: Array<{ id: string, name: string | null, units: number, seconds: number }>
}

/** One day of `StatsReport.byDay`: jobs that ended done that day (the node's local calendar day). */
export interface StatsDay {
  /** `YYYY-MM-DD` in the node's time zone. */
  day: string
  converted: number
  /** Source bytes minus output bytes of the jobs converted that day. */
  bytesSaved: number
}

/** `StatsReport.byDay` covers this many days, today included (the dashboard's chart). */
export const STATS_DAYS = 30

export interface StatsReport extends StatsSpan {
  last7Days: StatsSpan
  /** The last STATS_DAYS days, oldest first, today last; a day with nothing has zeros. */
  byDay: StatsDay[]
}

/** Paging and filters of `GET /v1/jobs`; every field is a string on the wire. */
export const JobListQuerySchema = z.strictObject({
  /** Comma-separated states. */
  state: z.string().max(200).optional().transform((s, ctx) => {
    if (s == null || s === '') return undefined
    const states = s.split(',')
    const bad = states.find(x => !(JobStates as readonly string[]).includes(x))
    if (bad != null) {
      ctx.addIssue({ code: 'custom', message: `unknown state "${bad}"; states are ${JobStates.join(', ')}` })
      return z.NEVER
    }
    return states as JobState[]
  }),
  batch: unlessEmpty(z.string().max(64)),
  /** Jobs whose id starts with this (what the CLI takes for a job id), in upper case. */
  idPrefix: unlessEmpty(z.string().regex(JOB_ID_PREFIX_PATTERN, 'must be the start of a job id (up to 26 letters and digits)')),
  order: unlessEmpty(z.enum(['oldest', 'newest'])).transform(o => o ?? 'oldest'),
  offset: unlessEmpty(z.coerce.number().int().min(0)).transform(n => n ?? 0),
  /** At most this many jobs; without it, all that match. */
  limit: unlessEmpty(z.coerce.number().int().min(0))
})
export type JobListQuery = z.input<typeof JobListQuerySchema>
export type JobListFilter = z.output<typeof JobListQuerySchema>

export const JobSummaryQuerySchema = z.strictObject({ batch: unlessEmpty(z.string().max(64)) })

export interface JobSummary {
  total: number
  byState: Record<JobState, number>
}
