import type { UiSession } from '@ffmesh/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Api } from './api.js'
import type { MeshNodeView } from './mesh-model.js'
import { API } from './routes.js'
import { createStore } from './store.js'

/** A node listing the test answers by hand, in the order it chooses. */
function deferredApi (): { api: Api, answer: (n: number, nodes: Partial<MeshNodeView>[]) => void } {
  const waiting: Array<(nodes: unknown) => void> = []
  const api: Api = {
    get: async <T>(path: string): Promise<T> => {
      if (path !== API.meshNodes) throw new Error(`unexpected read ${path}`)
      return await new Promise<T>(resolve => { waiting.push(resolve as (nodes: unknown) => void) })
    },
    send: async () => { throw new Error('no sends here') },
    setCsrf: () => {}
  }
  return { api, answer: (n, nodes) => waiting[n]?.(nodes) }
}

describe('the dashboard store', () => {
  beforeEach(() => {
    // The store redraws on animation frames and polls only a visible page: a hidden one, here.
    vi.stubGlobal('requestAnimationFrame', (f: () => void) => setTimeout(f, 0))
    vi.stubGlobal('document', { visibilityState: 'hidden' })
  })
  afterEach(() => { vi.unstubAllGlobals() })

  it('shows the nodes of the latest read when an earlier one answers after it', async () => {
    const { api, answer } = deferredApi()
    const store = createStore(api, {} as UiSession)
    const poll = store.refreshNodes()
    const afterPause = store.refreshNodes()
    answer(1, [{ id: 'b', paused: true }])
    await afterPause
    answer(0, [{ id: 'b', paused: false }])
    await poll
    expect(store.state.nodes.map(n => n.paused)).toEqual([true])
    store.stop()
  })
})
