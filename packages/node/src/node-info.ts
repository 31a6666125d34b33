import type { NodeInfo } from './control/api.js'

/** What `ffmesh info` says of this node; the dashboard's address is known once it listens. */
export interface NodeInfoHolder {
  info(): NodeInfo
  /** Set by node.ts once the dashboard listens (it is started after the API it serves). */
  setDashboard(url: string | null): void
}

export function createNodeInfo (init: Omit<NodeInfo, 'addresses' | 'dashboard'> & { addresses: () => string[] }):
NodeInfoHolder {
  let dashboard: string | null = null
  const { addresses, ...fixed } = init
  return {
    info: () => ({ ...fixed, addresses: addresses(), dashboard }),
    setDashboard (url) { dashboard = url }
  }
}
