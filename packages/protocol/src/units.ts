import { z } from 'zod'
import {
  HASH_PATTERN,
  JOB_ID_PATTERN,
  MAX_SOURCE_TIME_SEC,
  MAX_SPEC_STREAMS,
  MAX_SPEC_TAG_LENGTH,
  MAX_UNITS_PER_JOB,
  MAX_WHOLE_UNIT_BYTES
} from './limits.js'
import { DeinterlacedFrames, PixelFormats, ProfileSchema } from './profiles.js'

/** `skipped`: a library rule said the work was not worth doing (the job's `reason` says which). */
export const JobStates = ['queued', 'running', 'assembling', 'done', 'failed', 'cancelled', 'skipped'] as const
export type JobState = typeof JobStates[number]
export const UnitStates = ['pending', 'leased', 'converting', 'returned', 'verified'] as const
export type UnitState = typeof UnitStates[number]

export const TERMINAL_JOB_STATES: readonly JobState[] = ['done', 'failed', 'cancelled', 'skipped']

export const HashSchema = z.string().regex(HASH_PATTERN, 'a SHA-512 in lowercase hex')
export const JobIdSchema = z.string().regex(JOB_ID_PATTERN, 'a job id')
export const UnitIndexSchema = z.number().int().min(0).max(MAX_UNITS_PER_JOB - 1)

/** A blob is named by its SHA-512; the name is never taken from the network as a path. */
export const BlobRefSchema = z.strictObject({
  hash: HashSchema,
  size: z.number().int().min(0).max(MAX_WHOLE_UNIT_BYTES)
})
export type BlobRef = z.infer<typeof BlobRefSchema>

const specTag = z.string().max(MAX_SPEC_TAG_LENGTH).nullable()

/** A source stream as the owner's probe read it: what a whole unit's ffmpeg maps, keeps and names. */
export const SpecStreamSchema = z.strictObject({
  index: z.number().int().min(0).max(MAX_SPEC_STREAMS - 1),
  type: z.enum(['video', 'audio', 'subtitle', 'attachment', 'data']),
  /** ffmpeg's codec name ('h264', 'hdmv_pgs_subtitle', 'unknown'). */
  codec: z.string().regex(/^[a-z0-9_]{1,64}$/, 'an ffmpeg codec name'),
  language: specTag,
  title: specTag,
  attachedPic: z.boolean(),
  filename: specTag.optional(),
  mimetype: specTag.optional()
})
export type SpecStream = z.infer<typeof SpecStreamSchema>
export const SpecStreamsSchema = z.array(SpecStreamSchema).max(MAX_SPEC_STREAMS)

/**
 * What a worker needs to convert one unit. `segment`: keyframe-aligned video piece, optionally
 * preceded by the previous piece as pre-roll (open GOPs), keeping frames whose source time lies in
 * [start, end). `audio`: every audio track of the source, converted once. `whole`: the full file.
 */
export const UnitSpecSchema = z.strictObject({
  jobId: JobIdSchema,
  index: UnitIndexSchema,
  kind: z.enum(['segment', 'audio', 'whole']),
  inputs: z.array(BlobRefSchema).min(1).max(2),
  preRoll: z.boolean(),
  /** Source times, which may lie before zero (an edit list, a clock unwrapped backwards). */
  range: z
    .strictObject({
      start: z.number().min(-MAX_SOURCE_TIME_SEC).max(MAX_SOURCE_TIME_SEC),
      end: z.number().min(-MAX_SOURCE_TIME_SEC).max(MAX_SOURCE_TIME_SEC).nullable()
    })
    .nullable(),
  durationSec: z.number().min(0).max(1e6),
  /** Video frames the unit must produce, when known: lets a worker show progress without probing. */
  frames: z.number().int().min(0).max(1e9).nullable().optional(),
  /**
   * A segment's display rotation, clockwise: its piece lost the source's display matrix, so the
   * worker turns the frames as ffmpeg's autorotate would have. Absent means none.
   */
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]).optional(),
  /**
   * The picture a video unit writes, its width and height cut to even (4:2:0 needs both even):
   * set by the owner only where the source's picture is not already what the profile writes, so a
   * worker of an older version, which does not know the field, refuses just those units. Absent:
   * the profile's pixelFormat, else the source's format as it is.
   */
  pixelFormat: z.enum(PixelFormats).optional(),
  /**
   * The frames a video unit deinterlaces (one frame out for each frame in): those flagged
   * interlaced, or all. Set by the owner from the profile and its probe, and only where there is
   * something to deinterlace, for the same reason as pixelFormat. Absent: none.
   */
  deinterlace: z.enum(DeinterlacedFrames).optional(),
  /**
   * True: a video unit tone maps its HDR picture to SDR BT.709. Set by the owner where the profile
   * says `hdr: tonemap` and its probe says the source is HDR, for the same reason as pixelFormat.
   */
  toneMap: z.literal(true).optional(),
  /** Input container name as ffmpeg's demuxer knows it ('mpegts', 'matroska'). */
  inputFormat: z.enum(['mpegts', 'matroska', 'source']),
  /** A whole unit's source streams, as the owner probed them (absent: the worker probes its input). */
  streams: SpecStreamsSchema.optional(),
  profile: ProfileSchema
})
export type UnitSpec = z.infer<typeof UnitSpecSchema>

/** What a worker reports for a converted unit; the owner checks all of it before `unit:verified`. */
export const UnitResultSchema = z.strictObject({
  jobId: JobIdSchema,
  index: UnitIndexSchema,
  hash: HashSchema,
  size: z.number().int().min(1).max(MAX_WHOLE_UNIT_BYTES),
  frames: z.number().int().min(0),
  durationSec: z.number().min(0).max(1e6)
})
export type UnitResult = z.infer<typeof UnitResultSchema>
