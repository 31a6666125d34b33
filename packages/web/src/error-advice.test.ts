import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { ErrorCodes, SkipReasons } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'

const BUILT = fileURLToPath(new URL('../dist/error-advice.json', import.meta.url))

describe('the error advice the page loads', () => {
  it('has the docs\' advice for every error code (built from docs/errors.md by `npm run build`)', async () => {
    const text = await readFile(BUILT, 'utf8').catch(() => {
      throw new Error(`${BUILT} is missing: run \`npm run build\``)
    })
    const advice = JSON.parse(text) as Record<string, string>
    for (const code of Object.keys(ErrorCodes)) expect(advice[code]?.length ?? 0, code).toBeGreaterThan(20)
    expect(advice.UI_HOST_REFUSED).toContain('DNS-rebinding')
    expect(advice.SOURCE_NOT_FOUND).toContain('`ffmesh submit`')
    // A skipped job shows its reason with this advice, as a failed one shows its error's.
    for (const code of SkipReasons) expect(advice[code]?.length ?? 0, code).toBeGreaterThan(20)
    expect(advice.ALREADY_TARGET).toContain('Converting it again would lose quality')
  })
})
