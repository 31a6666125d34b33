import { DEFAULT_PROFILES, type Profile } from '@ffmesh/protocol'

/** Profiles this node knows: the defaults, then config's, which replace a default of the same name. */
export function profileTable (extra: Profile[]): Map<string, Profile> {
  return new Map([...DEFAULT_PROFILES, ...extra].map(p => [p.name, p]))
}
