import { isAbsolute, resolve } from 'node:path'

/**
 * Protocols ffmpeg may open. `pipe` carries progress (and pieces whose paths concatInput cannot
 * name); nothing else is needed, so a crafted name or playlist can never reach the network or
 * another protocol. concatInput's own list opens `concat` over `file` only.
 */
export const PROTOCOL_WHITELIST = 'file,pipe'

/**
 * A path as ffmpeg must see it: absolute and prefixed `file:`, so a name such as `-x` or
 * `concat:a|b` is never read as an option or a protocol.
 */
export function mediaPath (file: string): string {
  return `file:${isAbsolute(file) ? file : resolve(file)}`
}

/** Input options for one file, the whitelist first because it applies to the next input only. */
export function inputArgs (file: string, options: { format?: string, itsOffset?: number } = {}): string[] {
  const args = ['-protocol_whitelist', PROTOCOL_WHITELIST]
  if (options.itsOffset != null) args.push('-itsoffset', secondsArg(options.itsOffset))
  if (options.format != null) args.push('-f', options.format)
  args.push('-i', mediaPath(file))
  return args
}

/**
 * Files that concatenate byte-wise (MPEG-TS pieces) as one input: ffmpeg's concat protocol reads
 * them itself, where feeding them on stdin cost a copy of every byte through the node and the
 * kernel's pipe (planning a 10-minute source took 1.3 CPU s more that way, node and ffprobe
 * together). A path holding `|`, the protocol's separator, goes through stdin instead.
 */
export function concatInput (files: string[], format: string): { args: string[], stdin?: string[] } {
  const head = ['-f', format, '-i']
  if (files.some(f => f.includes('|'))) {
    return { args: ['-protocol_whitelist', PROTOCOL_WHITELIST, ...head, 'pipe:0'], stdin: files }
  }
  return { args: ['-protocol_whitelist', 'concat,file', ...head, `concat:${files.map(mediaPath).join('|')}`] }
}

/** Output options: the whitelist applies to the output file too, then the muxer and the path. */
export function outputArgs (file: string, muxer: string): string[] {
  return ['-protocol_whitelist', PROTOCOL_WHITELIST, '-f', muxer, mediaPath(file)]
}

/** Seconds as ffmpeg parses them; fixed microseconds avoid exponent notation such as 1e-7. */
export function secondsArg (seconds: number): string {
  return seconds.toFixed(6)
}
