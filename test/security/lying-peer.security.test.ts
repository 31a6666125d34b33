import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BLOB_PROTOCOL,
  DEFAULT_PROFILES,
  encodeFrame,
  newJobId,
  RESULT_PROTOCOL,
  type GossipMessage
} from '@ffmesh/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { readSwarmKey } from '../../packages/node/src/config/secrets.js'
import { GOSSIP_BURST_PER_PEER, GOSSIP_MESSAGES_PER_SEC_PER_PEER } from '../../packages/node/src/mesh/rate-limit.js'
import { PREFETCH_UNITS } from '../../packages/node/src/jobs/shared/timing.js'
import { hashFile } from '../../packages/node/src/store/hash.js'
import type { Ack } from '../../packages/node/src/mesh/types.js'
import { startTestNodes, stopTestNodes, waitForJob, waitForMesh, type TestNode } from '../helpers/in-process.js'
import { waitUntil } from '../helpers/node-harness.js'
import { startLiar, type Liar } from './liar.js'
import { paced } from '../helpers/pace.js'

/**
 * A lying key holder against real nodes: an owner that converts nothing itself, one
 * honest worker, and a liar built from the real mesh parts. Every lie must be refused, the liar
 * quarantined, and the output made by the honest worker alone.
 */
const run = promisify(execFile)
const h264 = DEFAULT_PROFILES.find(p => p.name === 'h264')
let media: string
let source: string
let fake: { file: string, hash: string, size: number, frames: number }
let nodes: TestNode[] = []
let liar: Liar | undefined
let advertise: NodeJS.Timeout | undefined

async function frames (file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_packets',
    '-of',
    'csv=p=0',
    file
  ])
  return Number(stdout.trim())
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const rejected = (n: TestNode, reason: string): number => n.node.meshStats()?.gossipRejected[reason] ?? 0

beforeAll(async () => {
  media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-liar-media-'))
  source = path.join(media, 'six.mp4')
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25:duration=6',
    '-f',
    'lavfi',
    '-i',
    'sine=duration=6',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-c:a',
    'aac',
    source
  ])
  // The liar's "result": real media with a true SHA-512, for which it claims one frame more.
  const file = path.join(media, 'fake.mkv')
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=25',
    '-frames:v',
    '3',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    file
  ])
  fake = { file, hash: await hashFile(file), size: (await fs.stat(file)).size, frames: await frames(file) }

  nodes = await startTestNodes([
    { name: 'owner', slots: 0, segmentSeconds: 2 },
    { name: 'honest', slots: 1, segmentSeconds: 2 }
  ])
  await waitForMesh(nodes)
  liar = await startLiar(await readSwarmKey(path.join(nodes[0].dataDir, 'swarm.key')))
  await liar.connect(nodes.flatMap(n => n.node.api.info().addresses.filter(a => a.includes('127.0.0.1'))))
  const l = liar
  // Four free slots beat the honest worker's one, so the owner grants to the liar while it trusts it.
  const advert = (): void => {
    l.publish({
      type: 'capacity',
      name: 'liar',
      version: '0',
      slotsTotal: 4,
      slotsFree: 4,
      encoders: ['aac', 'libx264'],
      diskFree: 1e12,
      queue: 0
    }).catch(() => {})
  }
  advertise = setInterval(advert, 500)
  advert()
  await waitUntil(
    async () => nodes.every(n => n.node.api.peers().some(p => p.id === l.peerId)),
    'the nodes to see the liar',
    paced(30_000)
  )
}, paced(180_000))

afterAll(async () => {
  clearInterval(advertise)
  await liar?.stop().catch(() => {})
  await stopTestNodes(nodes)
  await fs.rm(media, { recursive: true, force: true })
})

describe('a lying key holder', () => {
  it('has its lies refused and counted, is quarantined, and nothing of its work reaches the output', async () => {
    const l = liar as Liar
    const [owner, honest] = nodes
    const ownerId = owner.node.peerId

    // An advert with absurd numbers: more free slots than it has.
    await l.publish({
      type: 'capacity',
      name: 'liar',
      version: '0',
      slotsTotal: 1,
      slotsFree: 200,
      encoders: [],
      diskFree: 1e12,
      queue: 0
    })
    await waitUntil(
      async () => rejected(owner, 'absurd-capacity') > 0 && rejected(honest, 'absurd-capacity') > 0,
      'the absurd advert to be rejected'
    )
    expect(owner.node.api.peers().find(p => p.id === l.peerId)?.slotsFree).toBeLessThanOrEqual(4)

    // A replayed old message: signed correctly, but from outside the replay window.
    const ghost = newJobId()
    l.skewMs = -11 * 60_000
    await l.publish({ type: 'claim', owner: ownerId, jobId: ghost, index: 0, attempt: 1 })
    l.skewMs = 0
    await waitUntil(async () => rejected(owner, 'too-old') > 0, 'the replayed claim to be rejected')

    // A claim for a job that does not exist draws no grant.
    await l.publish({ type: 'claim', owner: ownerId, jobId: ghost, index: 0, attempt: 1 })

    // Offers whose profile carries an unknown field, or names that would be paths or protocols.
    const spec = {
      jobId: newJobId(),
      index: 0,
      kind: 'whole',
      inputs: [{ hash: 'ab'.repeat(64), size: 10 }],
      preRoll: false,
      range: null,
      durationSec: 2,
      inputFormat: 'source',
      profile: h264
    }
    const crafted: Array<Record<string, unknown>> = [
      { ...spec, profile: { ...h264, args: ['-i', 'http://x'] } },
      { ...spec, profile: { ...h264, name: '../x' } },
      { ...spec, profile: { ...h264, video: { ...h264?.video, preset: '-x' } } },
      { ...spec, inputs: [{ hash: '../../etc/passwd', size: 10 }] },
      { ...spec, inputs: [{ hash: `/${'a'.repeat(127)}`, size: 10 }] },
      { ...spec, inputFormat: 'concat' }
    ]
    const schemaBefore = rejected(honest, 'schema')
    for (const unit of crafted) await l.publishRaw({ type: 'offer', attempt: 1, unit, expectedOutputBytes: 1 })
    await waitUntil(
      async () => rejected(honest, 'schema') - schemaBefore >= crafted.length,
      'every crafted offer to be rejected'
    )

    // Now a real job. The liar claims every unit and answers each grant with a result whose hash
    // is right but whose frame count is not.
    const acks: Ack[] = []
    const grantsToLiar: Array<{ at: number, index: number }> = []
    let jobId = ''
    const off = l.on((m: GossipMessage, from: string) => {
      if (from !== ownerId || (m.type === 'offer' ? m.unit.jobId : 'jobId' in m ? m.jobId : null) !== jobId) return
      if (m.type === 'offer') {
        l.publish({
          type: 'claim',
          owner: ownerId,
          jobId: m.unit.jobId,
          index: m.unit.index,
          attempt: m.attempt
        }).catch(() => {})
      }
      if (m.type === 'grant' && m.worker === l.peerId) {
        grantsToLiar.push({ at: Date.now(), index: m.index })
        l.pushResult(
          ownerId,
          {
            jobId: m.jobId,
            index: m.index,
            attempt: m.attempt,
            hash: fake.hash,
            size: fake.size,
            frames: fake.frames + 1,
            durationSec: 2
          },
          fake.file
        ).then(
          a => acks.push(a),
          () => {}
        )
      }
    })
    const out = path.join(media, 'out')
    jobId = (await owner.node.api.submit({ source, profile: 'h264', outDir: out, handoff: false })).id

    // A result for a unit it was never granted, and one for a job that does not exist.
    await waitUntil(async () => owner.node.api.getJob(jobId).state === 'running', 'the job to be planned')
    expect(
      await l.pushResult(
        ownerId,
        { jobId, index: 0, attempt: 99, hash: fake.hash, size: fake.size, frames: fake.frames, durationSec: 2 },
        fake.file
      )
    ).toMatchObject({ ok: false, code: 'NOT_GRANTED' })
    expect(
      await l.pushResult(
        ownerId,
        { jobId: ghost, index: 0, attempt: 1, hash: fake.hash, size: fake.size, frames: fake.frames, durationSec: 2 },
        fake.file
      )
    ).toMatchObject({ ok: false, code: 'NOT_FOUND' })

    const quarantined = await waitUntil(
      async () => owner.events.find(e => e.type === 'peer:quarantined' && e.peerId === l.peerId),
      'the liar to be quarantined',
      paced(120_000)
    ).catch((err: Error) => {
      throw new Error(`${err.message}; grants to the liar: ${grantsToLiar.length}, acks: ${JSON.stringify(acks)}`)
    })
    const job = await waitForJob(owner, jobId, paced(240_000))
    off()
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(grantsToLiar.length).toBeGreaterThanOrEqual(3)
    expect(acks.length).toBeGreaterThanOrEqual(3)
    expect(acks.every(a => !a.ok && a.code === 'BAD_REQUEST')).toBe(true)
    // Once quarantined, its claims draw no grant (allow for a grant already on the wire).
    const quarantinedAt = owner.events.indexOf(quarantined)
    expect(
      owner.events.slice(quarantinedAt + 1).filter(e => e.type === 'unit:leased' && e.peerId === l.peerId).length
    ).toBeLessThanOrEqual(1)
    // Every unit was verified from the honest worker, and the output has every source frame.
    expect(new Set(job.units.map(u => u.worker))).toEqual(new Set([honest.node.peerId]))
    expect(owner.events.filter(e => e.type === 'unit:verified' && e.peerId === l.peerId)).toHaveLength(0)
    expect(await frames(job.output as string)).toBe(await frames(source))
    expect(await fs.readdir(out)).toEqual([path.basename(job.output as string)])
    // The non-existent job never drew a grant.
    expect(l.seen.filter(s => s.message.type === 'grant' && s.message.jobId === ghost)).toHaveLength(0)
  }, paced(300_000))

  it('floods of gossip, offers and streams stay bounded and honest work goes on', async () => {
    const l = liar as Liar
    const [owner, honest] = nodes
    const ownerId = owner.node.peerId
    const heapBefore = process.memoryUsage().heapUsed

    // Gossip flood: far more than the burst, as fast as it can publish.
    const FLOOD = GOSSIP_BURST_PER_PEER * 3
    const jobsHeard = (n: TestNode): number => n.node.meshStats()?.received['ffmesh/1/jobs']?.messages ?? 0
    /** Messages a node's validator passed or rate-limited: each flooded one counts once, either way. */
    const judged = (n: TestNode): number => jobsHeard(n) + rejected(n, 'rate-limited')
    const receivedBefore = jobsHeard(owner)
    // Before the first publish: the owner judges on this event loop while the flood goes out.
    const judgedBefore = [judged(owner), judged(honest)]
    const started = Date.now()
    for (let i = 0; i < FLOOD; i++) {
      await l.publishRaw({ type: 'claim', owner: ownerId, jobId: newJobId(), index: 0, attempt: 1 })
    }
    // Every flooded message has reached the owner's validator, and the honest worker's (the liar
    // is connected to both), once it was accepted or refused.
    await waitUntil(
      async () => judged(owner) - judgedBefore[0] >= FLOOD && judged(honest) - judgedBefore[1] >= FLOOD,
      'the whole flood to be judged'
    )
    const elapsed = (Date.now() - started) / 1000
    const accepted = jobsHeard(owner) - receivedBefore
    // Allowance: the burst, the sustained rate over the run, and the honest peers' own traffic.
    expect(accepted).toBeLessThan(GOSSIP_BURST_PER_PEER + GOSSIP_MESSAGES_PER_SEC_PER_PEER * elapsed + 200)
    expect(rejected(owner, 'rate-limited')).toBeGreaterThan(0)
    // The liar's token bucket refills with time alone: wait one burst's worth before it offers. A
    // pause in the scenario, not a hope: both nodes have judged the whole flood (above), and the
    // bucket reads the clock, so a late wake-up only leaves it fuller.
    await sleep(GOSSIP_BURST_PER_PEER / GOSSIP_MESSAGES_PER_SEC_PER_PEER * 1000)

    // Offer flood from the liar as an owner: the honest worker claims no more than its slots allow.
    const claimsFromHonest = new Set<string>()
    const off = l.on((m, from) => {
      if (from === honest.node.peerId && m.type === 'claim' && m.owner === l.peerId) claimsFromHonest.add(m.jobId)
    })
    const OFFERS = 300
    const heardBefore = jobsHeard(honest)
    for (let i = 0; i < OFFERS; i++) {
      const unit = {
        jobId: newJobId(),
        index: 0,
        kind: 'whole' as const,
        inputs: [{ hash: 'cd'.repeat(64), size: 1_000 }],
        preRoll: false,
        range: null,
        durationSec: 2,
        inputFormat: 'source' as const,
        profile: h264 as NonNullable<typeof h264>
      }
      await l.publish({ type: 'offer', attempt: 1, unit, expectedOutputBytes: 1_000 })
    }
    // A claim goes out as its offer is handled: once every offer has reached the honest worker,
    // every claim it would make is made.
    await waitUntil(
      async () => jobsHeard(honest) - heardBefore >= OFFERS && claimsFromHonest.size > 0,
      'the honest worker to hear every offer and claim'
    )
    off()
    expect(claimsFromHonest.size).toBeGreaterThan(0)
    expect(claimsFromHonest.size).toBeLessThanOrEqual(1 + PREFETCH_UNITS)

    // Stream flood: many blob requests and result pushes at once, all for things it may not have.
    const tmpDir = path.join(owner.dataDir, 'tmp')
    const fetches = Array.from(
      { length: 24 },
      async (_, i) =>
        await l
          .fetchBlob(
            ownerId,
            { hash: i.toString(16).padStart(2, '0').repeat(64), size: 10 },
            path.join(media, `stolen-${i}`)
          )
          .then(
            () => 'got',
            (err: Error) => err.message
          )
    )
    const pushes = Array.from(
      { length: 24 },
      async () =>
        await l
          .pushResult(
            ownerId,
            {
              jobId: newJobId(),
              index: 0,
              attempt: 1,
              hash: fake.hash,
              size: fake.size,
              frames: fake.frames,
              durationSec: 1
            },
            fake.file
          )
          .then(
            a => a,
            (err: Error) => ({ ok: false, code: 'STREAM', message: err.message })
          )
    )
    const [fetched, pushed] = await Promise.all([Promise.all(fetches), Promise.all(pushes)])
    expect(fetched.filter(r => r === 'got')).toHaveLength(0)
    expect(pushed.filter(a => a.ok)).toHaveLength(0)
    // Malformed stream headers: a huge declared length, garbage, a header of the wrong shape.
    const framesBefore = owner.node.meshStats()?.framesRejected ?? {}
    const ownerPeer = peerIdFromString(ownerId)
    const garbage: Array<[string, Uint8Array]> = [
      [BLOB_PROTOCOL, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3])],
      [BLOB_PROTOCOL, new Uint8Array([0, 0, 0, 4, 0x7b, 0x7b, 0x7b, 0x7b])],
      [
        RESULT_PROTOCOL,
        encodeFrame({ jobId: '../../x', index: 0, attempt: 1, hash: '/etc/passwd', size: 1, frames: 1, durationSec: 1 })
      ]
    ]
    for (const [protocol, bytes] of garbage) {
      const stream = await l.libp2p.dialProtocol(ownerPeer, protocol)
      stream.send(bytes)
      await stream.close().catch(() => {})
    }
    const grew = (key: string): boolean => (owner.node.meshStats()?.framesRejected[key] ?? 0) > (framesBefore[key] ?? 0)
    await waitUntil(
      async () => grew('blob-request:too-large') && grew('blob-request:not-json') && grew('result-header:schema'),
      'the malformed headers to be counted'
    )

    const leftovers = (await fs.readdir(tmpDir).catch(() => [])).filter(n => n.startsWith('result-'))
    expect(leftovers).toEqual([])
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024)

    // The owner still serves the honest worker.
    const { id } = await owner.node.api.submit({
      source,
      profile: 'h264',
      outDir: path.join(media, 'after-flood'),
      handoff: false
    })
    const job = await waitForJob(owner, id, paced(240_000))
    expect(job.state, JSON.stringify(job.error)).toBe('done')
  }, paced(300_000))
})
