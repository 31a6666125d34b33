import type { ConvertingUnit, MeshNodeStatus, NodeControlState } from '@ffmesh/protocol'
import type { CapacityBody } from '../mesh/types.js'

export interface SelfParts {
  capacity(): CapacityBody | undefined
  running(): ConvertingUnit[]
  controlState(): NodeControlState
  slotsFree(): number
}

/** This node in the mesh's node list: what it advertises, and what its worker does now. */
export function selfNodeStatus (
  base: { id: string; name: string; version: string; slotsTotal: number; now: number },
  worker: SelfParts
): MeshNodeStatus {
  const advert = worker.capacity()
  const control = worker.controlState()
  const diskFree = advert?.diskFree ?? 0
  return {
    id: base.id,
    name: base.name,
    self: true,
    online: true,
    lastSeen: base.now,
    version: base.version,
    slotsTotal: base.slotsTotal,
    slotsFree: worker.slotsFree(),
    encoders: advert?.encoders ?? [],
    diskFree,
    // The advertised free disk is what is left above worker.minFreeDisk: none left, no units taken.
    diskFull: advert != null && diskFree === 0,
    paused: control.paused,
    draining: control.draining,
    schedule: control.schedule,
    converting: worker.running()
  }
}
