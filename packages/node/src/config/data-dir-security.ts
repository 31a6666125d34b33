import { stat } from 'node:fs/promises'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import type { DataPaths } from './paths.js'

/** Write bits for the group and for others. */
const GROUP_OR_OTHER_WRITE = 0o022
/** Read bits for the group and for others. */
const GROUP_OR_OTHER_READ = 0o044

/**
 * The data dir and the files in it that decide what the node runs and who it is must be writable
 * by the node's user alone: config.yaml names the ffmpeg binary the node executes, swarm.key
 * admits peers, identity.key is who the node is. A file others can write, or one another user
 * owns (who can make it so), is refused with the command that fixes it. Readability of the
 * secrets is checked where they are read (SWARM_KEY_INSECURE, IDENTITY_INSECURE).
 */
export async function assertDataDirPrivate (
  paths: Pick<DataPaths, 'root' | 'config' | 'swarmKey' | 'identity'>,
  init: { configFile?: string } = {}
): Promise<void> {
  const uid = process.getuid?.()
  // [path, what it is, the mode that fixes it, whether its reader refuses it readable by others]
  const checks: Array<[string, string, string, boolean]> = [
    [paths.root, 'data dir', '700', false],
    [paths.config, 'config file', '600', false],
    [paths.swarmKey, 'swarm key', '600', true],
    [paths.identity, 'node identity', '600', true]
  ]
  if (init.configFile != null) checks.push([init.configFile, 'config file given with --config', '600', false])
  for (const [file, what, mode, secret] of checks) {
    let info
    try {
      info = await stat(file)
    } catch (err) {
      // A missing file is reported by whoever needs it (NOT_INITIALIZED, SWARM_KEY_MISSING, ...).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    const current = (info.mode & 0o777).toString(8)
    // A secret others can read is refused by its reader (SWARM_KEY_INSECURE, IDENTITY_INSECURE),
    // with the same chmod; that code says the graver half.
    const readerRefuses = secret && (info.mode & GROUP_OR_OTHER_READ) !== 0
    if ((info.mode & GROUP_OR_OTHER_WRITE) !== 0 && !readerRefuses) {
      throw new FfmeshError(
        ErrorCodes.DATA_DIR_INSECURE,
        `${what} ${file} can be written by other users (mode ${current}), who could change what this node runs; fix it with \`chmod ${mode} ${file}\``,
        { path: file, mode: current }
      )
    }
    if (uid != null && info.uid !== uid && info.uid !== 0) {
      throw new FfmeshError(
        ErrorCodes.DATA_DIR_INSECURE,
        `${what} ${file} belongs to another user (uid ${info.uid}), who could change what this node runs; give it to the node's user with \`chown ${uid} ${file}\` and \`chmod ${mode} ${file}\``,
        { path: file, uid: info.uid }
      )
    }
  }
}
