import { describe, expect, it } from 'vitest'
import { unitFilters } from './unit-filters.js'

describe('unitFilters', () => {
  it('names the filters of the parts of a unit\'s chain some builds lack, each once', () => {
    expect(unitFilters({})).toEqual([])
    expect(unitFilters({ deinterlace: 'interlaced' })).toEqual(['bwdif'])
    expect(unitFilters({ toneMap: true })).toEqual(['zscale', 'format', 'tonemap'])
    expect(unitFilters({ deinterlace: 'all', toneMap: true })).toEqual(['bwdif', 'zscale', 'format', 'tonemap'])
  })
})
