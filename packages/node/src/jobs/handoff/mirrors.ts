import type { UnitStatus } from '@ffmesh/protocol'

/** A handed-off job's progress and units as its new owner last reported them. */
export interface Mirror { progress: number, units: UnitStatus[] }

/**
 * What the submitter knows of the jobs it handed off, by job id. node.ts makes it; the handoff
 * fills it from `job-state` messages and the status builder (jobs/owner/status.ts) reads it, so
 * neither needs the other.
 */
export type Mirrors = Map<string, Mirror>
