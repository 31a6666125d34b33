import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { ErrorCodes, WireErrorCodes } from '@ffmesh/protocol'
import { describe, expect, it } from 'vitest'

const DOC = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url))
const WIRE_SECTION = '## Wire error codes'

/** Codes are the `### CODE` headings; node codes come before the wire section, wire codes after. */
async function documented (): Promise<{ codes: string[], wire: string[] }> {
  const text = await readFile(DOC, 'utf8')
  const at = text.indexOf(WIRE_SECTION)
  expect(at).toBeGreaterThan(0)
  const headings = (part: string): string[] => [...part.matchAll(/^### ([A-Z][A-Z0-9_]*)\s*$/gm)].map(m => m[1])
  return { codes: headings(text.slice(0, at)), wire: headings(text.slice(at)) }
}

describe('docs/errors.md', () => {
  it('documents every error code, and documents no code that does not exist', async () => {
    const { codes } = await documented()
    expect([...codes].sort()).toEqual(Object.keys(ErrorCodes).sort())
  })

  it('documents every wire error code, and no other', async () => {
    const { wire } = await documented()
    expect([...wire].sort()).toEqual(Object.keys(WireErrorCodes).sort())
  })

  it('lists each code once', async () => {
    const { codes, wire } = await documented()
    expect(new Set(codes).size).toBe(codes.length)
    expect(new Set(wire).size).toBe(wire.length)
  })
})
