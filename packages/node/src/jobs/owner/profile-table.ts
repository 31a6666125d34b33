import { DEFAULT_PROFILES, ErrorCodes, FfmeshError, type Profile } from '@ffmesh/protocol'

/** Profiles this node knows: the defaults, then config's, which replace a default of the same name. */
export function profileTable (extra: Profile[]): Map<string, Profile> {
  return new Map([...DEFAULT_PROFILES, ...extra].map(p => [p.name, p]))
}

/** The profile of that name; UNKNOWN_PROFILE naming the known ones (`what` says where it was asked for). */
export function knownProfile (profiles: Map<string, Profile>, name: string, what = ''): Profile {
  const profile = profiles.get(name)
  if (profile != null) return profile
  throw new FfmeshError(
    ErrorCodes.UNKNOWN_PROFILE,
    `no profile named "${name}"${what}; known profiles: ${[...profiles.keys()].join(', ')} (ffmesh profiles lists them)`
  )
}
