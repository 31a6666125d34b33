import { ErrorCodes, type ErrorBody } from '@ffmesh/protocol'

/** What a second look at a file the library converted, with its size but not its time, found. */
export type SecondLook = { same: true } | { same: false } | { error: ErrorBody }

/**
 * Whether a file the library knows, whose time changed but not its size, still holds the bytes it
 * converted (a `touch`, a copy that kept the bytes): its hash against the one remembered. A file
 * that cannot be read is the file's problem, never the scan's: one file a person left unreadable,
 * or removed while the scan read it, must not stop the library's every scan.
 */
export async function lookAgain (
  file: string,
  knownHash: string,
  hashFile: (file: string, options?: { signal?: AbortSignal }) => Promise<string>,
  options: { signal?: AbortSignal } = {}
): Promise<SecondLook> {
  try {
    return { same: (await hashFile(file, options)) === knownHash }
  } catch (err) {
    if (options.signal?.aborted === true) throw err
    const code = (err as NodeJS.ErrnoException).code ?? 'no access'
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { error: { code: ErrorCodes.SOURCE_NOT_FOUND, message: `${file} was removed while the scan read it` } }
    }
    return {
      error: {
        code: ErrorCodes.SOURCE_NOT_FOUND,
        message: `cannot read ${file} (${code}); give the node's user read access to it, and the next scan takes it`
      }
    }
  }
}
