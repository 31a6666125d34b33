import path from 'node:path'
import { containerExtension, type Profile } from '@ffmesh/protocol'

/**
 * A library output's name: the source's, with the profile's extension (`E01.mp4` → `E01.mkv`).
 * Worked out from the job's profile when it is placed, since the probe may have switched the
 * profile to the kind it found.
 */
export function libraryOutputName (source: string, profile: Profile): string {
  return `${path.basename(source, path.extname(source))}.${containerExtension(profile.container)}`
}
