/** Named limits. Each says where its number comes from. */

/** SHA-512 in lowercase hex. */
export const HASH_HEX_LENGTH = 128

/** Gossip messages are announcements, never bytes; gossipsub's default inbound RPC cap is ~4 MiB. */
export const MAX_GOSSIP_MESSAGE_BYTES = 64 * 1024

/** A unit is one segment of about `segmentSeconds`; 8 GiB covers a 20 s 8K intra-only segment. */
export const MAX_UNIT_BYTES = 8 * 1024 ** 3

/** A whole-file unit (short video, audio-only, image) may be a full source; 64 GiB. */
export const MAX_WHOLE_UNIT_BYTES = 64 * 1024 ** 3

/**
 * Bound of a source time in a unit's range, either side of zero, seconds: about 30 years, far past
 * any clock a container counts from its start (MPEG's wraps at 26.5 h); the range may start below
 * zero (an edit list, a clock ffmpeg unwrapped backwards).
 */
export const MAX_SOURCE_TIME_SEC = 1e9

/** Segments per job: a 10 h film at 5 s segments is 7200. */
export const MAX_UNITS_PER_JOB = 10_000

/** Length-prefixed control frames on streams (requests, acks), not payload chunks. */
export const MAX_STREAM_FRAME_BYTES = 64 * 1024

/** Payload chunks on transfer streams: large enough to amortise framing, small enough to bound memory. */
export const TRANSFER_CHUNK_BYTES = 256 * 1024

/** Names (profile names, node names, watch labels) are short identifiers. */
export const MAX_NAME_LENGTH = 64

/** A job id: 26 characters of Crockford base32 (a ULID). */
export const JOB_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/
/** The start of a job id as the CLI takes it and the job listing filters by (upper case). */
export const JOB_ID_PREFIX_PATTERN = /^[0-9A-Z]{1,26}$/

export const PROFILE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/

export const HASH_PATTERN = /^[0-9a-f]{128}$/

/** Unit summaries carried in a job-state message; 200 × ~120 bytes stays well under the gossip cap. */
export const MAX_UNITS_IN_JOB_STATE = 200

/** Workers invited by one offer: enough for a good choice, few enough that claims stay bounded. */
export const MAX_OFFER_CANDIDATES = 4

/**
 * Tries of one unit kept for its timeline: every failure fits (jobs.maxAttempts defaults to 5);
 * releases that are not failures (reassignments, refusals) can repeat, and only recent ones matter.
 */
export const MAX_UNIT_TRIES = 16

/**
 * Source streams a whole unit's spec describes, so its worker needs no probe of its own: a film
 * with many subtitle tracks and fonts has a few dozen. A source with more, or with longer tags,
 * goes without them and its worker probes it (the spec must fit one offer on the wire).
 */
export const MAX_SPEC_STREAMS = 64
/** A stream tag carried in a spec (language, title, an attachment's file name or type). */
export const MAX_SPEC_TAG_LENGTH = 256

/**
 * The longest reason or error message a mesh message or stream frame carries: room for the gist of
 * an ffmpeg stderr tail; a longer one is cut (clipMessage) before it is sent, or the message fails
 * its own schema and is never sent.
 */
export const MAX_WIRE_MESSAGE = 500
