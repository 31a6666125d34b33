import { open } from 'node:fs/promises'

/** Bytes read to recognise a container; every signature below lies within them. */
const SNIFF_BYTES = 512

/**
 * Signatures of media containers. When ffprobe cannot read a file that starts with one of these,
 * the file is media that is damaged (SOURCE_CORRUPT), not some other kind of file (SOURCE_NOT_MEDIA).
 * The extension cannot decide it: ffprobe picks its demuxer by extension for unknown bytes.
 */
const SIGNATURES: Array<(b: Buffer) => boolean> = [
  b => ['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'].includes(b.toString('latin1', 4, 8)), // ISO BMFF / QuickTime
  b => b.readUInt32BE(0) === 0x1a45dfa3, // EBML: Matroska, WebM
  b => b[0] === 0x47 && (b.length < 189 || b[188] === 0x47), // MPEG-TS sync bytes
  b => b.readUInt32BE(0) === 0x000001ba || b.readUInt32BE(0) === 0x000001b3, // MPEG-PS / ES
  b => ['RIFF', 'OggS', 'fLaC', 'FLV\x01', '.RMF', 'FORM', 'caff'].includes(b.toString('latin1', 0, 4)),
  b => b.toString('latin1', 0, 3) === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0), // MP3 / ADTS
  b => b.readUInt32BE(0) === 0x3026b275, // ASF / WMV
  b => b.readUInt32BE(0) === 0x89504e47 || (b[0] === 0xff && b[1] === 0xd8) || b.toString('latin1', 0, 4) === 'GIF8'
]

/** True when the file starts like a media container ffmpeg knows. */
export async function looksLikeMedia (file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0)
    const head = buffer.subarray(0, bytesRead)
    if (head.length < 8) return false
    return SIGNATURES.some(matches => matches(head))
  } finally {
    await handle.close()
  }
}
