import type { LibraryConfig } from '@ffmesh/protocol'
import type { Sub } from '../store/job-store.js'

/**
 * Libraries added with `ffmesh library add` (they outlive restarts), the config ones removed with
 * `ffmesh library remove` (so a restart does not bring them back), and each library's last scan.
 */
export function createLibraryStore (area: Sub<string>) {
  return {
    async runtime (): Promise<LibraryConfig[]> {
      const out: LibraryConfig[] = []
      for await (const [, value] of area.iterator({ gte: 'lib:', lt: 'lib;' })) {
        out.push(JSON.parse(value) as LibraryConfig)
      }
      return out
    },
    save: async (library: LibraryConfig): Promise<void> => {
      await area.put(`lib:${library.path}`, JSON.stringify(library))
    },
    delete: async (root: string): Promise<void> => {
      await area.del(`lib:${root}`)
    },
    isRemoved: async (root: string): Promise<boolean> => (await area.get(`removed:${root}`)) != null,
    markRemoved: async (root: string, removed: boolean): Promise<void> => {
      if (removed) await area.put(`removed:${root}`, '1')
      else await area.del(`removed:${root}`)
    }
  }
}

export type LibraryStore = ReturnType<typeof createLibraryStore>
