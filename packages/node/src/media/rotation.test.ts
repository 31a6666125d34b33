import { describe, expect, it } from 'vitest'
import { displayRotation, rotationFilters } from './rotation.js'

const matrix = (rotation: number | string | undefined): { side_data_list: Array<{ rotation?: number | string }> } =>
  ({ side_data_list: [{}, ...rotation === undefined ? [] : [{ rotation }]] })

describe('display rotation', () => {
  // ffprobe prints the matrix's angle counterclockwise; autorotate turns the other way.
  it.each([
    [90, 270, ['transpose=cclock']],
    [-90, 90, ['transpose=clock']],
    [270, 90, ['transpose=clock']],
    [180, 180, ['hflip', 'vflip']],
    [-180, 180, ['hflip', 'vflip']],
    ['90.000000', 270, ['transpose=cclock']],
    [89.6, 270, ['transpose=cclock']],
    [0, 0, []],
    [45, 0, []],
    [undefined, 0, []]
  ] as const)('a matrix at %s° turns the picture %s° clockwise, as ffmpeg 5.1 does', (angle, turn, filters) => {
    expect(displayRotation(matrix(angle))).toBe(turn)
    expect(rotationFilters(displayRotation(matrix(angle)))).toEqual(filters)
  })

  it('reads no turn from a stream without side data', () => {
    expect(displayRotation(undefined)).toBe(0)
    expect(displayRotation({})).toBe(0)
    expect(rotationFilters(undefined)).toEqual([])
  })
})
