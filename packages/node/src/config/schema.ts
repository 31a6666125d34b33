import os from 'node:os'
import { ProfileSchema, WatchSchema, type WatchConfig } from '@ffmesh/protocol'
import { z } from 'zod'
import { DEFAULT_UI_LISTEN, parseListenAddress } from '../ui/listen-address.js'

/**
 * Every setting, with its default. The order of precedence is
 * defaults < data dir config.yaml < `--config` file < FFMESH_* environment variables
 * (see load.ts). config/default.yaml documents each key and must match this schema.
 */
const bytes = z.number().int().min(0)

export const ConfigSchema = z.strictObject({
  /** Shown to other nodes and in `ffmesh peers`. */
  name: z.string().min(1).max(64).default(os.hostname()),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  ffmpeg: z.strictObject({
    ffmpegPath: z.string().default('ffmpeg'),
    ffprobePath: z.string().default('ffprobe')
  }).prefault({}),
  worker: z.strictObject({
    /** Parallel ffmpeg processes on this node; 0 converts nothing (a laptop that only submits). */
    slots: z.number().int().min(0).max(256).default(Math.max(1, Math.floor(os.availableParallelism() / 2))),
    /** Threads per ffmpeg process; 0 lets the encoder choose. */
    threads: z.number().int().min(0).max(256).default(0),
    /** Free disk this node always keeps; a unit that would go below it is refused with DISK_FULL. */
    minFreeDisk: bytes.default(2 * 1024 ** 3),
    /** How long a result for an unreachable owner is kept. */
    resultRetentionSeconds: z.number().int().min(60).default(7 * 24 * 3600),
    /**
     * Multiplies the ffmpeg time limit of a unit (10 min + 60 s per media second, media/convert.ts).
     * Above 1 for very slow machines; tests set it small to see a hung encode stopped quickly.
     */
    convertTimeoutScale: z.number().positive().min(0.0001).max(100).default(1)
  }).prefault({}),
  jobs: z.strictObject({
    /** Target length of one video segment. */
    segmentSeconds: z.number().min(1).max(3600).default(20),
    /** Tries per unit before the job fails with the last reason. */
    maxAttempts: z.number().int().min(1).max(100).default(5),
    leaseSeconds: z.number().min(1).max(3600).default(60),
    heartbeatSeconds: z.number().min(0.2).max(600).default(5),
    /** How long a peer that keeps failing units gets none of this node's units. */
    quarantineSeconds: z.number().min(1).max(7 * 24 * 3600).default(600),
    /** Where outputs go when a submit names no --out: beside the source. */
    defaultOutputDir: z.string().optional()
  }).prefault({}),
  mesh: z.strictObject({
    enabled: z.boolean().default(true),
    listen: z.array(z.string()).default(['/ip4/0.0.0.0/tcp/0']),
    /** Multiaddrs of peers outside this LAN segment (mDNS reaches only one). */
    bootstrap: z.array(z.string()).default([]),
    mdns: z.boolean().default(true),
    /** When non-empty, only these peer ids may connect. */
    allowPeers: z.array(z.string()).default([]),
    advertiseSeconds: z.number().min(0.2).max(600).default(5)
  }).prefault({}),
  ui: z.strictObject({
    /** The web dashboard; false turns it off (the control socket and the CLI are unaffected). */
    enabled: z.boolean().default(true),
    /**
     * `host:port` it listens on. A loopback address answers this machine only, without a password;
     * any other needs one (`ffmesh ui password`). Port 0 picks a free port (tests).
     */
    listen: z.string().refine(v => parseListenAddress(v) != null, 'must be host:port with an IP address or localhost, such as 127.0.0.1:7676, 0.0.0.0:7676 or [::1]:7676').default(DEFAULT_UI_LISTEN)
  }).prefault({}),
  profiles: z.array(ProfileSchema).default([]),
  watch: z.array(WatchSchema).default([])
})

export type Config = z.infer<typeof ConfigSchema>

// The watch schema is the control API's too (`ffmesh watch add`), so it lives in the protocol.
export { WatchSchema, type WatchConfig }
