import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const jobs = path.join(root, 'packages/node/src/jobs')

/** The rules ESLint reports for `code` as if it stood in `file` (relative to jobs/), by the repository's config. */
async function rulesBroken (file: string, code: string): Promise<Array<string | null>> {
  const eslint = new ESLint({ cwd: root })
  const [result] = await eslint.lintText(code, { filePath: path.join(jobs, file) })
  return result?.messages.map(m => m.ruleId) ?? []
}

describe('lint guards the shape of jobs/', () => {
  it('refuses an import of the worker side from the owner side', async () => {
    const code = "import { createWorker } from '../worker/worker.js'\n\nexport const w = createWorker\n"
    expect(await rulesBroken('owner/some-file.ts', code)).toContain('no-restricted-imports')
  })

  it('refuses an import of the owner side from the worker side', async () => {
    const code = "import { createOwner } from '../owner/owner.js'\n\nexport const o = createOwner\n"
    expect(await rulesBroken('worker/some-file.ts', code)).toContain('no-restricted-imports')
  })

  it('lets either side import jobs/shared', async () => {
    const code = "import { PREFETCH_UNITS } from '../shared/timing.js'\n\nexport const n = PREFETCH_UNITS\n"
    expect(await rulesBroken('owner/some-file.ts', code)).toEqual([])
    expect(await rulesBroken('worker/some-file.ts', code)).toEqual([])
  })

  it('refuses a line of code longer than 120 characters', async () => {
    const code = `export const num = [${Array.from({ length: 37 }, () => '1').join(', ')}]\n`
    expect(code.trimEnd()).toHaveLength(130)
    expect(await rulesBroken('owner/some-file.ts', code)).toEqual(['@stylistic/max-len'])
  })
})
