import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import type { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { ConfigSchema } from './schema.js'

const configDir = fileURLToPath(new URL('../../../../config/', import.meta.url))

/** Settings left commented out (machine-dependent) are written `# key: value`; uncomment them too. */
function uncommentSettings (text: string): string {
  return text.split('\n').map(line => line.replace(/^(\s*)# ([a-zA-Z][a-zA-Z0-9]*: .+)$/, '$1$2')).join('\n')
}

function objectShape (schema: z.ZodType): Record<string, z.ZodType> | null {
  let s = schema
  while (['default', 'prefault', 'optional'].includes(s.def.type)) {
    s = (s.def as unknown as { innerType: z.ZodType }).innerType
  }
  return s.def.type === 'object' ? (s as unknown as { shape: Record<string, z.ZodType> }).shape : null
}

function schemaKeyPaths (schema: z.ZodType, prefix: string[] = []): string[] {
  const shape = objectShape(schema)
  if (shape == null) return [prefix.join('.')]
  return Object.entries(shape).flatMap(([k, v]) => schemaKeyPaths(v, [...prefix, k]))
}

function documentedKeyPaths (value: unknown, prefix: string[] = []): string[] {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return [prefix.join('.')]
  return Object.entries(value).flatMap(([k, v]) => documentedKeyPaths(v, [...prefix, k]))
}

describe('config/default.yaml', () => {
  it('parses and validates against the schema as shipped', async () => {
    const text = await readFile(path.join(configDir, 'default.yaml'), 'utf8')
    expect(ConfigSchema.safeParse(parse(text)).success).toBe(true)
  })

  it('documents every setting, and only settings the schema has, with the default values', async () => {
    const text = uncommentSettings(await readFile(path.join(configDir, 'default.yaml'), 'utf8'))
    const documented = parse(text) as Record<string, unknown>
    const result = ConfigSchema.safeParse(documented)
    expect(result.error?.issues ?? []).toEqual([])
    expect(documentedKeyPaths(documented).sort()).toEqual(schemaKeyPaths(ConfigSchema).sort())
    const defaults = ConfigSchema.parse({})
    const {
      name: _n,
      worker: { slots: _s, ...worker },
      jobs: { defaultOutputDir: _d, ...jobs },
      ...rest
    } = result.data!
    const { name: _n2, worker: { slots: _s2, ...defaultWorker }, jobs: defaultJobs, ...defaultRest } = defaults
    expect({ ...rest, worker, jobs }).toEqual({ ...defaultRest, worker: defaultWorker, jobs: defaultJobs })
  })

  it('ships examples that validate', async () => {
    const examples = (await readdir(path.join(configDir, 'examples'))).filter(f => f.endsWith('.yaml'))
    expect(examples.length).toBeGreaterThan(0)
    for (const file of examples) {
      const result = ConfigSchema.safeParse(parse(await readFile(path.join(configDir, 'examples', file), 'utf8')))
      expect({ file, issues: result.error?.issues ?? [] }).toEqual({ file, issues: [] })
    }
  })
})
