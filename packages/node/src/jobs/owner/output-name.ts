/**
 * Output file names: what the job's source is called, made safe to create. ext4, xfs, btrfs and
 * tmpfs all take at most 255 bytes per name (NAME_MAX), and a source can already be that long, so
 * the stem is shortened to leave room for the profile suffix, the extension and the " (N)" a name
 * clash adds. Control characters (a newline in a name breaks every script and listing that reads
 * the folder) are replaced.
 */
export const MAX_NAME_BYTES = 255
/** Room for `linkWithoutOverwrite`'s " (9999)" on a clash. */
export const CLASH_SUFFIX_BYTES = ' (9999)'.length

// eslint-disable-next-line no-control-regex -- control characters are what this matches
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

/** `stem` + `suffix`, with control characters replaced and the stem cut to fit in one name. */
export function fitFileName (
  stem: string,
  suffix: string,
  maxBytes: number = MAX_NAME_BYTES - CLASH_SUFFIX_BYTES
): string {
  const clean = stem.replace(CONTROL, '_')
  const tail = suffix.replace(CONTROL, '_')
  const room = maxBytes - Buffer.byteLength(tail)
  if (room <= 0) throw new RangeError(`a suffix of ${Buffer.byteLength(tail)} bytes leaves no room for a name`)
  let cut = clean
  // Cut whole code points (never half a UTF-8 sequence or surrogate pair) until the stem fits.
  while (Buffer.byteLength(cut) > room) cut = [...cut].slice(0, -1).join('')
  return cut + tail
}
