import { crc32 } from 'node:zlib'

/**
 * The job log's value encoding: JSON followed by a NUL and the CRC-32 of the JSON in hex. The
 * LevelDB build here checks no block checksum on reads (classic-level has no verify_checksums
 * option), so a table damaged on disk could otherwise hand back altered records without a word;
 * with this every record read proves itself or fails to decode (STORE_CORRUPT at open). JSON text
 * never holds a raw NUL. Records written before this encoding (no checksum) still decode.
 */
const SEPARATOR = '\u0000'
const CRC_HEX = 8

const crcOf = (text: string): string => crc32(text).toString(16).padStart(CRC_HEX, '0')

export function encodeRecord (value: unknown): string {
  const text = JSON.stringify(value)
  return `${text}${SEPARATOR}${crcOf(text)}`
}

export function decodeRecord (stored: string): unknown {
  const at = stored.length - CRC_HEX - 1
  if (at >= 0 && stored[at] === SEPARATOR) {
    const text = stored.slice(0, at)
    if (crcOf(text) !== stored.slice(at + 1)) {
      throw new Error('a job log record does not match its checksum (damaged on disk)')
    }
    return JSON.parse(text)
  }
  return JSON.parse(stored)
}

/** As an abstract-level encoding, for the log's sublevels. */
export const recordEncoding = {
  name: 'ffmesh-record',
  format: 'utf8' as const,
  encode: encodeRecord,
  decode: decodeRecord
}
