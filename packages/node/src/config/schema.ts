import os from 'node:os'
import { LibrarySchema, ProfileSchema, WatchSchema, type LibraryConfig, type WatchConfig } from '@ffmesh/protocol'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { profileTable } from '../jobs/owner/profile-table.js'
import { MAX_SCHEDULE_WINDOWS, parseSchedule, ScheduleError } from '../jobs/worker/schedule.js'
import { DEFAULT_UI_LISTEN, parseListenAddress } from '../ui/listen-address.js'
import { defaultSlots } from './machine-defaults.js'

/**
 * Every setting, with its default. The order of precedence is
 * defaults < data dir config.yaml < `--config` file < FFMESH_* environment variables
 * (see load.ts). config/default.yaml documents each key and must match this schema.
 */
const bytes = z.number().int().min(0)

/** A libp2p address such as /ip4/0.0.0.0/tcp/0; checked here so a typo names its key at start-up. */
const multiaddrText = z.string().refine(text => {
  try {
    multiaddr(text)
    return true
  } catch {
    return false
  }
}, 'not a multiaddr (for example /ip4/0.0.0.0/tcp/0 or /ip4/192.168.1.5/tcp/4001/p2p/12D3…)')

export const ConfigSchema = z.strictObject({
  /** Shown to other nodes and in `ffmesh peers`. */
  name: z.string().min(1).max(64).default(os.hostname()),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  ffmpeg: z
    .strictObject({
      ffmpegPath: z.string().default('ffmpeg'),
      ffprobePath: z.string().default('ffprobe')
    })
    .prefault({}),
  worker: z
    .strictObject({
      /**
       * Parallel ffmpeg processes on this node; 0 converts nothing (a laptop that only submits). By
       * default one per CPU thread, as far as memory allows (machine-defaults.ts).
       */
      slots: z
        .number()
        .int()
        .min(0)
        .max(256)
        .default(defaultSlots()),
      /**
       * Threads per ffmpeg process; 0 shares the CPU threads among the slots, and on a node of one
       * slot lets the encoder choose (jobs/worker/slots.ts `unitThreads`).
       */
      threads: z.number().int().min(0).max(256).default(0),
      /** Free disk this node always keeps; a unit that would go below it is refused with DISK_FULL. */
      minFreeDisk: bytes.default(2 * 1024 ** 3),
      /** How long a result for an unreachable owner is kept. */
      resultRetentionSeconds: z
        .number()
        .int()
        .min(60)
        .default(7 * 24 * 3600),
      /**
       * Multiplies the ffmpeg time limit of a unit (10 min + 60 s per media second, media/convert.ts).
       * Above 1 for very slow machines; tests set it small to see a hung encode stopped quickly.
       */
      convertTimeoutScale: z.number().positive().min(0.0001).max(100).default(1),
      /**
       * When the worker takes new units, as windows in local time (`mon-fri 22:00-07:00`,
       * `sat-sun all`); empty: always. Outside them it finishes what runs and takes nothing new.
       */
      schedule: z
        .array(z.string().max(200))
        .max(MAX_SCHEDULE_WINDOWS)
        .default([])
        .superRefine((entries, ctx) => {
          try {
            parseSchedule(entries)
          } catch (err) {
            if (!(err instanceof ScheduleError)) throw err
            ctx.addIssue({ code: 'custom', message: err.message })
          }
        }),
      /** CPU priority of ffmpeg children (nice, 0-19): 10 keeps a desktop responsive while it converts. */
      nice: z.number().int().min(0).max(19).default(10),
      /** Run ffmpeg children in the idle I/O class (ionice -c 3): they read and write when no one else does. */
      ioIdle: z.boolean().default(true)
    })
    .prefault({}),
  jobs: z
    .strictObject({
      /**
       * The longest video segment: pieces shrink toward a file's end so slots finish together, and a
       * node that goes away loses at most one segment's work.
       */
      segmentSeconds: z.number().min(1).max(3600).default(60),
      /**
       * auto: the planner chooses (a batch spread file by file, a short file or a mesh of one slot
       * whole, segments where slots would wait); segments: every video long enough is cut at segmentSeconds.
       */
      cut: z.enum(['auto', 'segments']).default('auto'),
      /** Tries per unit before the job fails with the last reason. */
      maxAttempts: z.number().int().min(1).max(100).default(5),
      leaseSeconds: z.number().min(1).max(3600).default(60),
      heartbeatSeconds: z.number().min(0.2).max(600).default(5),
      /** How long a peer that keeps failing units gets none of this node's units. */
      quarantineSeconds: z
        .number()
        .min(1)
        .max(7 * 24 * 3600)
        .default(600),
      /** How long the pieces and results of a failed or cancelled job are kept for `ffmesh retry`, then freed. */
      failedRetentionSeconds: z
        .number()
        .min(1)
        .max(365 * 24 * 3600)
        .default(7 * 24 * 3600),
      /**
       * How long a done job keeps its units (the dashboard's timeline of its tries), then only what
       * `ffmesh stats` counts of them, so a library's years of jobs do not fill memory; 0 keeps them.
       */
      doneUnitsRetentionSeconds: z
        .number()
        .min(0)
        .max(10 * 365 * 24 * 3600)
        .default(30 * 24 * 3600),
      /** Where outputs go when a submit names no --out: beside the source. */
      defaultOutputDir: z.string().optional(),
      /**
       * Queued jobs planned (probed and cut) at once. Each plan is an ffmpeg reading its source; two
       * keep a disk and a core busy on the owner while its slots convert what is planned.
       */
      maxPlanning: z.number().int().min(1).max(64).default(2)
    })
    .prefault({}),
  mesh: z
    .strictObject({
      enabled: z.boolean().default(true),
      listen: z.array(multiaddrText).default(['/ip4/0.0.0.0/tcp/0']),
      /** Multiaddrs of peers outside this LAN segment (mDNS reaches only one). */
      bootstrap: z.array(multiaddrText).default([]),
      mdns: z.boolean().default(true),
      /** When non-empty, only these peer ids may connect. */
      allowPeers: z.array(z.string()).default([]),
      advertiseSeconds: z.number().min(0.2).max(600).default(5),
      /**
       * Other members may pause and resume this node's worker (`ffmesh pause --node`, the
       * dashboard). A pause made at this machine is never undone from elsewhere.
       */
      remoteControl: z.boolean().default(true)
    })
    .prefault({}),
  ui: z
    .strictObject({
      /** The web dashboard; false turns it off (the control socket and the CLI are unaffected). */
      enabled: z.boolean().default(true),
      /**
       * `host:port` it listens on. A loopback address answers this machine only, without a password;
       * any other needs one (`ffmesh ui password`). Port 0 picks a free port (tests).
       */
      listen: z
        .string()
        .refine(
          v => parseListenAddress(v) != null,
          'must be host:port with an IP address or localhost, such as 127.0.0.1:7676, 0.0.0.0:7676 or [::1]:7676'
        )
        .default(DEFAULT_UI_LISTEN)
    })
    .prefault({}),
  profiles: z.array(ProfileSchema).default([]),
  watch: z.array(WatchSchema).default([]),
  library: z
    .strictObject({
      /** Minutes between full rescans of every library (a missed notification is found then). */
      rescanMinutes: z
        .number()
        .min(1)
        .max(7 * 24 * 60)
        .default(360),
      /** Seconds between scans of a library with `poll: true` (network mounts send no notifications). */
      pollSeconds: z
        .number()
        .min(1)
        .max(24 * 3600)
        .default(60),
      /** Days an original replaced by --replace stays in the library's .ffmesh-trash/ folder. */
      trashDays: z.number().min(0).max(3650).default(30)
    })
    .prefault({}),
  libraries: z.array(LibrarySchema).default([])
})

export type Config = z.infer<typeof ConfigSchema>

/**
 * Rules between settings, checked on the merged configuration only: each layer alone may set one
 * side (FFMESH_JOBS_LEASE_SECONDS over a file's heartbeatSeconds). Returns the problems found.
 */
export function configRelationProblems (config: Config): Array<{ path: string[], message: string }> {
  const problems: Array<{ path: string[], message: string }> = []
  // A lease renewed no more often than it lasts expires between two heartbeats of a live worker.
  if (config.jobs.leaseSeconds <= config.jobs.heartbeatSeconds) {
    problems.push({
      path: ['jobs', 'leaseSeconds'],
      message: `must be greater than jobs.heartbeatSeconds (${config.jobs.heartbeatSeconds}); leases are renewed by heartbeats`
    })
  }
  problems.push(...profileProblems(config))
  return problems
}

/**
 * Watches and libraries name profiles this node knows, each of its media kind: checked at start,
 * as `ffmesh watch add` and `ffmesh library add` check them, not at each file (a mistyped name
 * would refuse every file the watch sees; a library would wait for ever to start).
 */
function profileProblems (config: Config): Array<{ path: string[], message: string }> {
  const profiles = profileTable(config.profiles)
  const known = `known profiles: ${[...profiles.keys()].join(', ')}`
  const problems: Array<{ path: string[], message: string }> = []
  for (const [i, watch] of config.watch.entries()) {
    if (!profiles.has(watch.profile)) {
      problems.push({ path: ['watch', String(i), 'profile'], message: `no profile named "${watch.profile}"; ${known}` })
    }
  }
  for (const [i, library] of config.libraries.entries()) {
    for (const [kind, name] of Object.entries(library.profiles)) {
      const profile = name == null ? undefined : profiles.get(name)
      const path = ['libraries', String(i), 'profiles', kind]
      if (name != null && profile == null) problems.push({ path, message: `no profile named "${name}"; ${known}` })
      else if (profile != null && profile.kind !== kind) {
        problems.push({ path, message: `profile "${name}" converts ${profile.kind}, not ${kind}` })
      }
    }
  }
  return problems
}

// The watch schema is the control API's too (`ffmesh watch add`), so it lives in the protocol.
export { WatchSchema, type WatchConfig }
export { LibrarySchema, type LibraryConfig }
