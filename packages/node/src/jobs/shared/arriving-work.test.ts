import { describe, expect, it } from 'vitest'
import { ARRIVING_TTL_MS, createArrivingWork } from './arriving-work.js'

describe('work a submission says is still coming', () => {
  const file = { durationSec: 60, bytes: 6_000_000 }

  it('counts the files to come at the bitrate of the last file taken in', () => {
    const arriving = createArrivingWork(() => 0)
    expect(arriving.seconds()).toBe(0)
    arriving.note({ files: 2, bytes: 18_000_000 }, file)
    expect(arriving.seconds()).toBeCloseTo(180)
  })

  it('ends with the request that says nothing follows, and is left alone by one that says nothing', () => {
    const arriving = createArrivingWork(() => 0)
    arriving.note({ files: 1, bytes: 3_000_000 }, file)
    arriving.note(undefined, file)
    expect(arriving.seconds()).toBeCloseTo(30)
    arriving.note({ files: 0, bytes: 0 }, file)
    expect(arriving.seconds()).toBe(0)
  })

  it('forgets a submission that stopped midway', () => {
    let now = 1_000
    const arriving = createArrivingWork(() => now)
    arriving.note({ files: 5, bytes: 30_000_000 }, file)
    now += ARRIVING_TTL_MS
    expect(arriving.seconds()).toBeCloseTo(300)
    now += 1
    expect(arriving.seconds()).toBe(0)
  })

  it('takes nothing from a file with no bytes to rate by', () => {
    const arriving = createArrivingWork(() => 0)
    arriving.note({ files: 3, bytes: 9_000_000 }, { durationSec: 10, bytes: 0 })
    expect(arriving.seconds()).toBe(0)
  })
})
