import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeOldFormat } from './fixtures/old-formats.js'
import { startTestNodes, stopTestNodes, waitForJob, waitForMesh, type TestNode } from './helpers/in-process.js'
import { fastProfile } from './helpers/kept-check.js'

const run = promisify(execFile)
let media: string
let nodes: TestNode[] = []

beforeAll(async () => { media = await fs.mkdtemp(path.join(os.tmpdir(), 'ffmesh-mesh-')) })
afterEach(async () => { await stopTestNodes(nodes); nodes = [] })
afterAll(async () => { await fs.rm(media, { recursive: true, force: true }) })

async function sample (seconds: number, name: string): Promise<string> {
  const file = path.join(media, name)
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x240:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '50',
    '-bf',
    '2',
    '-c:a',
    'aac',
    file
  ])
  return file
}

async function facts (file: string): Promise<{ frames: number, duration: number }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_packets:format=duration',
    '-of',
    'json',
    file
  ])
  const p = JSON.parse(stdout) as { streams: Array<{ nb_read_packets: string }>, format: { duration: string } }
  return { frames: Number(p.streams[0].nb_read_packets), duration: Number(p.format.duration) }
}

/** A real ffmpeg that pretends not to have one encoder, as a build without libx265 would. */
async function ffmpegWithout (encoder: string): Promise<string> {
  const wrapper = path.join(media, `ffmpeg-without-${encoder}`)
  await fs.writeFile(
    wrapper,
    `#!/bin/sh\nfor a in "$@"; do [ "$a" = "-encoders" ] && { ffmpeg "$@" | grep -v " ${encoder} "; exit 0; }; [ "$a" = "${encoder}" ] && { echo "Unknown encoder '${encoder}'" >&2; exit 1; }; done\nexec ffmpeg "$@"\n`,
    { mode: 0o755 }
  )
  return wrapper
}

/**
 * A real ffmpeg that pretends not to have one filter, as a build without libzimg has no zscale: it
 * leaves it out of `-filters` and fails a chain that uses it as such a build does.
 */
async function ffmpegWithoutFilter (filter: string): Promise<string> {
  const wrapper = path.join(media, `ffmpeg-without-${filter}`)
  await fs.writeFile(
    wrapper,
    `#!/bin/sh\nfor a in "$@"; do [ "$a" = "-filters" ] && { ffmpeg "$@" | grep -v " ${filter} "; exit 0; }; case "$a" in *${filter}=*) echo "No such filter: '${filter}'" >&2; exit 1;; esac; done\nexec ffmpeg "$@"\n`,
    { mode: 0o755 }
  )
  return wrapper
}

describe('the mesh converts one file together', () => {
  it('three nodes on loopback split a one-minute sample; the output equals a one-node run', async () => {
    const source = await sample(60, 'minute.mp4')
    nodes = await startTestNodes([
      { name: 'a', slots: 1, segmentSeconds: 6 },
      { name: 'b', slots: 1, segmentSeconds: 6 },
      { name: 'c', slots: 1, segmentSeconds: 6 }
    ])
    await waitForMesh(nodes)
    const [a] = nodes
    const { id } = await a.node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'mesh-out') })
    const job = await waitForJob(a, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    const workers = new Set(job.units.map(u => u.worker))
    expect(workers.size).toBeGreaterThanOrEqual(2)
    for (const w of workers) expect(nodes.map(n => n.node.peerId)).toContain(w)
    // Honest nodes never send each other a message the validators refuse.
    for (const n of nodes) expect(n.node.meshStats()?.gossipRejected).toEqual({})

    const single = await startTestNodes([{ name: 'solo', slots: 2, segmentSeconds: 6, mesh: false }])
    try {
      const solo = await single[0].node.api.submit({ source, profile: 'h264', outDir: path.join(media, 'solo-out') })
      const soloJob = await waitForJob(single[0], solo.id)
      expect(soloJob.state).toBe('done')
      const [m, s, src] = await Promise.all([
        facts(job.output as string),
        facts(soloJob.output as string),
        facts(source)
      ])
      expect(m.frames).toBe(src.frames)
      expect(m.frames).toBe(s.frames)
      expect(Math.abs(m.duration - s.duration)).toBeLessThan(1 / 25)
    } finally {
      await stopTestNodes(single)
    }
  })

  it('a worker short of disk says so in its adverts, refuses with DISK_FULL and writes nothing; the job completes on another', async () => {
    const source = await sample(12, 'disk.mp4')
    nodes = await startTestNodes([
      { name: 'owner', slots: 0, segmentSeconds: 3 },
      { name: 'full', slots: 2, segmentSeconds: 3, extra: { worker: { slots: 2, minFreeDisk: 2 ** 52 } } },
      { name: 'roomy', slots: 1, segmentSeconds: 3 }
    ])
    await waitForMesh(nodes)
    const [owner, full, roomy] = nodes
    // handoff: false keeps the job on the submit-only owner, so every unit must go to a worker.
    const { id } = await owner.node.api.submit({
      source,
      profile: 'h264',
      outDir: path.join(media, 'disk-out'),
      handoff: false
    })
    const job = await waitForJob(owner, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(new Set(job.units.map(u => u.worker))).toEqual(new Set([roomy.node.peerId]))
    // Its adverts say its disk is full, so the owner offers it nothing; an offer it heard anyway
    // (one sent to everyone before its first advert) it refused with DISK_FULL.
    expect(owner.node.api.peers().find(p => p.id === full.node.peerId)?.diskFull).toBe(true)
    const refusals = owner.events.filter(e => e.type === 'peer:rejected' && e.peerId === full.node.peerId)
    expect(refusals.every(e => e.data?.code === 'DISK_FULL')).toBe(true)
    for (const dir of ['blobs', 'fetched']) {
      expect(await fs.readdir(path.join(full.dataDir, dir)).catch(() => [])).toEqual([])
    }
  })

  it('a worker that hears an owner only through another node does not claim its units: it could not fetch them', async () => {
    // A line, not a LAN: no mDNS, and both ends bootstrap to the hub. Gossip crosses the hub, so
    // "far" hears the owner's offers, but it has no connection or address to fetch a unit from.
    const source = await sample(9, 'relay.mp4')
    nodes = await startTestNodes([{ name: 'hub', slots: 1, segmentSeconds: 3, mdns: false }])
    const hubAddress = nodes[0].node.api.info().addresses[0] as string
    const spoke = {
      enabled: true,
      mdns: false,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      advertiseSeconds: 1,
      bootstrap: [hubAddress]
    }
    nodes.push(
      ...(await startTestNodes(
        [
          { name: 'owner', slots: 0, segmentSeconds: 3, extra: { mesh: spoke } },
          { name: 'far', slots: 1, segmentSeconds: 3, extra: { mesh: spoke } }
        ],
        [],
        path.join(nodes[0].dataDir, 'swarm.key')
      ))
    )
    await waitForMesh(nodes)
    const [hub, owner, far] = nodes
    const { id } = await owner.node.api.submit({
      source,
      profile: 'h264',
      outDir: path.join(media, 'relay-out'),
      handoff: false
    })
    const job = await waitForJob(owner, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(new Set(job.units.map(u => u.worker))).toEqual(new Set([hub.node.peerId]))
    expect(
      owner.events.filter(e => e.peerId === far.node.peerId && (e.type === 'peer:rejected' || e.type === 'unit:leased'))
    ).toEqual([])
  })

  it('a worker without the encoder refuses with UNSUPPORTED_PROFILE, and a byte flipped in flight is caught by SHA-512', async () => {
    const source = await sample(9, 'enc.mp4')
    let flipped = 0
    nodes = await startTestNodes(
      [
        { name: 'owner', slots: 0, segmentSeconds: 3 },
        {
          name: 'nox265',
          slots: 1,
          segmentSeconds: 3,
          extra: { ffmpeg: { ffmpegPath: await ffmpegWithout('libx265') } }
        },
        { name: 'full-ffmpeg', slots: 1, segmentSeconds: 3 }
      ],
      [{ testHooks: { corruptBlobByte: () => flipped++ === 0 } }]
    )
    await waitForMesh(nodes)
    const [owner, nox265, good] = nodes
    const { id } = await owner.node.api.submit({
      source,
      profile: 'h265',
      outDir: path.join(media, 'enc-out'),
      handoff: false
    })
    const job = await waitForJob(owner, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    expect(new Set(job.units.map(u => u.worker))).toEqual(new Set([good.node.peerId]))
    const refusals = owner.events.filter(e => e.type === 'peer:rejected' && e.peerId === nox265.node.peerId)
    expect(refusals.length).toBeGreaterThan(0)
    expect(refusals.every(e => e.data?.code === 'UNSUPPORTED_PROFILE')).toBe(true)
    expect(flipped).toBeGreaterThan(1)
    expect((await facts(job.output as string)).frames).toBe((await facts(source)).frames)
  })

  it('a worker whose ffmpeg lacks a filter a unit needs (zscale, to tone map) refuses it; one that has it converts', async () => {
    const source = await makeOldFormat('hdr10Mkv', media)
    const toSdr = fastProfile('h264', p => {
      p.name = 'sdr264'
      if (p.video != null) p.video.hdr = 'tonemap'
    })
    nodes = await startTestNodes([
      { name: 'owner', slots: 0, segmentSeconds: 2, extra: { profiles: [toSdr] } },
      { name: 'nozimg', slots: 1, segmentSeconds: 2, extra: { ffmpeg: { ffmpegPath: await ffmpegWithoutFilter('zscale') } } },
      { name: 'zimg', slots: 1, segmentSeconds: 2 }
    ])
    await waitForMesh(nodes)
    const [owner, nozimg, zimg] = nodes
    const { id } = await owner.node.api.submit({ source, profile: 'sdr264', outDir: path.join(media, 'sdr-out'), handoff: false })
    const job = await waitForJob(owner, id)
    expect(job.state, JSON.stringify(job.error)).toBe('done')
    const video = job.units.filter(u => u.kind !== 'audio')
    expect(video.length).toBeGreaterThan(1)
    // The audio unit needs no filter: either worker may take it. Every video unit tone maps.
    expect(new Set(video.map(u => u.worker))).toEqual(new Set([zimg.node.peerId]))
    const refusals = owner.events.filter(e => e.type === 'peer:rejected' && e.peerId === nozimg.node.peerId)
    expect(refusals.length).toBeGreaterThan(0)
    expect(refusals.every(e => e.data?.code === 'UNSUPPORTED_PROFILE')).toBe(true)
  })
})
