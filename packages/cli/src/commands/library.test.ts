import { describe, expect, it } from 'vitest'
import { libraryFields, parseKindProfiles } from './library.js'

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn() } catch (err) { return (err as { code?: string }).code }
  return undefined
}

describe('library command options', () => {
  it('reads --profile KIND=NAME, one per kind', () => {
    expect(parseKindProfiles(['video=h265', 'audio=opus', 'image=webp'])).toEqual({
      video: 'h265',
      audio: 'opus',
      image: 'webp'
    })
    expect(codeOf(() => parseKindProfiles(['h265']))).toBe('BAD_ARGUMENTS')
    expect(codeOf(() => parseKindProfiles(['movie=h265']))).toBe('BAD_ARGUMENTS')
    expect(codeOf(() => parseKindProfiles([]))).toBe('BAD_ARGUMENTS')
    expect(() => parseKindProfiles(['video=h264', 'audio=opus', 'video=h265'])).toThrow(
      '--profile video=h265: video already has --profile video=h264; give one profile per kind'
    )
    expect(parseKindProfiles(['video=h265', 'video=h265'])).toEqual({ video: 'h265' })
  })

  it('takes either --out or --replace, and numbers of 0 or more for the rules', () => {
    expect(libraryFields('/m', { profile: ['video=h265'], out: '/o', minSize: '1000' })).toMatchObject({
      path: '/m',
      output: '/o',
      rules: { minSize: 1000 }
    })
    expect(libraryFields('/m', { profile: ['video=h265'], replace: true })).toMatchObject({ replace: true })
    expect(codeOf(() => libraryFields('/m', { profile: ['video=h265'] }))).toBe('BAD_ARGUMENTS')
    expect(codeOf(() => libraryFields('/m', { profile: ['video=h265'], out: '/o', replace: true }))).toBe(
      'BAD_ARGUMENTS'
    )
    expect(codeOf(() => libraryFields('/m', { profile: ['video=h265'], out: '/o', minSaving: '-5' }))).toBe(
      'BAD_ARGUMENTS'
    )
  })
})
