import { isAbsolute, resolve } from 'node:path'

/**
 * Protocols ffmpeg may open. `pipe` carries progress and pre-roll on stdin; nothing else is needed,
 * so a crafted name or playlist can never reach the network or another protocol.
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

/** Output options: the whitelist applies to the output file too, then the muxer and the path. */
export function outputArgs (file: string, muxer: string): string[] {
  return ['-protocol_whitelist', PROTOCOL_WHITELIST, '-f', muxer, mediaPath(file)]
}

/** Seconds as ffmpeg parses them; fixed microseconds avoid exponent notation such as 1e-7. */
export function secondsArg (seconds: number): string {
  return seconds.toFixed(6)
}
