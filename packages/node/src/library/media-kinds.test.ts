import { describe, expect, it } from 'vitest'
import { classifyFolder, kindByExtension } from './media-kinds.js'

describe('library media kinds', () => {
  it('tells video, audio and images by extension, whatever the case', () => {
    expect(kindByExtension('a.MKV')).toBe('video')
    expect(kindByExtension('a.flac')).toBe('audio')
    expect(kindByExtension('a.jpeg')).toBe('image')
    expect(kindByExtension('a.srt')).toBeNull()
    expect(kindByExtension('noext')).toBeNull()
  })

  it("gives a video its sidecars (subtitles, .nfo, posters) and leaves a poster out of the images", () => {
    const names = [
      'E01.mkv',
      'E01.en.srt',
      'E01.nfo',
      'E01-poster.jpg',
      'E01.jpg',
      'E010.srt',
      'cover.jpg',
      'theme.mp3',
      'notes.txt'
    ]
    const files = classifyFolder(names, { video: 'h265', audio: 'opus', image: 'webp' })
    expect(files.map(f => f.name).sort()).toEqual(['E01.mkv', 'cover.jpg', 'theme.mp3'])
    expect(files.find(f => f.name === 'E01.mkv')?.sidecars.sort()).toEqual([
      'E01-poster.jpg',
      'E01.en.srt',
      'E01.jpg',
      'E01.nfo'
    ])
  })

  it('leaves out the kinds the library has no profile for', () => {
    const files = classifyFolder(['a.mkv', 'b.flac', 'c.png'], { video: 'h265' })
    expect(files.map(f => [f.name, f.kind])).toEqual([['a.mkv', 'video']])
  })
})
