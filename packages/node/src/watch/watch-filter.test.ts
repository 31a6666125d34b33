import { describe, expect, it } from 'vitest'
import { isIgnoredName, isInside, passesFilters } from './watch-filter.js'

describe('watch filters', () => {
  it('ignores partial downloads and hidden segments only', () => {
    for (const name of ['a.part', 'a.MKV.PART', 'b.crdownload', 'c.tmp', 'd~', '.e.mkv', 'x/.y/z.mkv']) {
      expect(isIgnoredName(name)).toBe(true)
    }
    for (const name of ['a.mkv', 'partial/a.mkv', 'x/y.z/w.mp4', 'tmp/a.flac']) expect(isIgnoredName(name)).toBe(false)
  })

  it('matches slash-less patterns on the name and others on the relative path', () => {
    expect(passesFilters('shows/a.mkv', ['*.mkv'], [])).toBe(true)
    expect(passesFilters('shows/a.mp4', ['*.mkv'], [])).toBe(false)
    expect(passesFilters('shows/a.mkv', [], ['shows/**'])).toBe(false)
    expect(passesFilters('films/a.mkv', ['films/*.mkv'], [])).toBe(true)
    expect(passesFilters('films/x/a.mkv', ['films/*.mkv'], [])).toBe(false)
  })

  it('tells inside from outside without being fooled by shared prefixes', () => {
    expect(isInside('/srv/in', '/srv/in/a')).toBe(true)
    expect(isInside('/srv/in', '/srv/inbox/a')).toBe(false)
    expect(isInside('/srv/in', '/srv')).toBe(false)
  })
})
