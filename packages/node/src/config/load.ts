import { readFile } from 'node:fs/promises'
import { ErrorCodes, FfmeshError } from '@ffmesh/protocol'
import { parseDocument } from 'yaml'
import type { z } from 'zod'
import { dataPaths } from './paths.js'
import { ConfigSchema, configRelationProblems, type Config } from './schema.js'

/** Every FFMESH_* variable that is not a config key but is read elsewhere (CLI, tests). */
const NON_CONFIG_ENV = new Set(['FFMESH_DATA_DIR'])
const ENV_PREFIX = 'FFMESH_'
/** Aliases a config file may expand; a hand-written config uses a handful, a YAML bomb millions. */
const MAX_YAML_ALIASES = 100
/** Numbers in FFMESH_* variables: plain decimals, so `0x10`, `1e2` or `Infinity` are refused, not guessed. */
const DECIMAL = /^-?\d+(\.\d+)?$/

interface Layer { source: string, values: Record<string, unknown> }

/**
 * Settings in order of precedence: schema defaults < `<dataDir>/config.yaml` < `--config` file <
 * FFMESH_* environment variables. Objects merge key by key; arrays and scalars replace. Every layer
 * is validated on its own first, so an error names the file or variable the bad value came from.
 */
export async function loadConfig (init: {
  dataDir: string
  configFile?: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
}): Promise<Config> {
  const layers: Layer[] = []
  const dataConfig = dataPaths(init.dataDir).config
  const fromDataDir = await readYamlFile(dataConfig, { optional: true, signal: init.signal })
  if (fromDataDir != null) layers.push({ source: dataConfig, values: fromDataDir })
  if (init.configFile != null) {
    const fromFlag = await readYamlFile(init.configFile, { optional: false, signal: init.signal })
    layers.push({ source: init.configFile, values: fromFlag ?? {} })
  }
  layers.push(...envLayers(init.env ?? process.env))

  for (const layer of layers) validate(layer.values, layer.source)
  const merged = layers.reduce<Record<string, unknown>>((acc, layer) => deepMerge(acc, layer.values), {})
  const sources = layers.map(l => l.source).join(' + ') || 'defaults'
  const config = validate(merged, sources)
  const related = configRelationProblems(config)
  if (related.length > 0) {
    throw new FfmeshError(
      ErrorCodes.CONFIG_INVALID,
      `invalid configuration in ${sources}: ${related.map(p => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
      { source: sources, issues: related }
    )
  }
  return config
}

/** The environment variable that sets a key path: ['jobs', 'segmentSeconds'] → FFMESH_JOBS_SEGMENT_SECONDS. */
export function envNameFor (keyPath: readonly string[]): string {
  return ENV_PREFIX + keyPath.map(k => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
}

function validate (values: Record<string, unknown>, source: string): Config {
  const result = ConfigSchema.safeParse(values)
  if (result.success) return result.data
  const problems = result.error.issues.map(issue => {
    const keyPath = issue.path.map(String)
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map(
          k =>
            `${[...keyPath, k].join('.')}: unknown setting (check the spelling; config/default.yaml lists every setting)`
        )
        .join('; ')
    }
    return `${keyPath.length > 0 ? keyPath.join('.') : '(top level)'}: ${issue.message}`
  })
  throw new FfmeshError(ErrorCodes.CONFIG_INVALID, `invalid configuration in ${source}: ${problems.join('; ')}`,
    { source, issues: result.error.issues.map(i => ({ path: i.path.map(String), message: i.message })) })
}

async function readYamlFile (
  file: string,
  options: { optional: boolean; signal?: AbortSignal }
): Promise<Record<string, unknown> | null> {
  let text: string
  try {
    text = await readFile(file, { encoding: 'utf8', signal: options.signal })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (options.optional) return null
      throw new FfmeshError(ErrorCodes.CONFIG_INVALID, `config file ${file} does not exist; check the --config path`)
    }
    throw new FfmeshError(ErrorCodes.CONFIG_INVALID, `cannot read config file ${file}: ${(err as Error).message}`)
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new FfmeshError(ErrorCodes.CONFIG_INVALID, `config file ${file} is not valid YAML: ${doc.errors[0].message}`)
  }
  let value: unknown
  try {
    // The yaml library stops expanding aliases past a count (a "billion laughs" file) by throwing.
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES })
  } catch (err) {
    throw new FfmeshError(
      ErrorCodes.CONFIG_INVALID,
      `config file ${file} cannot be read: ${(err as Error).message} (too many YAML aliases; write the values out)`
    )
  }
  if (value == null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FfmeshError(
      ErrorCodes.CONFIG_INVALID,
      `config file ${file} must hold a mapping of settings (key: value), not a ${Array.isArray(value) ? 'list' : typeof value}`
    )
  }
  return stripNulls(value as Record<string, unknown>)
}

/** A section whose keys are all commented out reads as null in YAML; treat it as "not set". */
function stripNulls (obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) continue
    out[k] = isPlainObject(v) ? stripNulls(v) : v
  }
  return out
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function deepMerge (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v
  }
  return out
}

/** Strip default/prefault/optional wrappers to reach the schema that says what a value is. */
function unwrap (schema: z.ZodType): z.ZodType {
  let s = schema
  for (;;) {
    const def = s.def as { type: string, innerType?: z.ZodType }
    if (
      (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') &&
      def.innerType != null
    ) {
      s = def.innerType
    } else return s
  }
}

interface EnvKey { name: string, path: string[], kind: string }

function envKeys (schema: z.ZodType, prefix: string[]): EnvKey[] {
  const inner = unwrap(schema)
  if (inner.def.type === 'object' && prefix.length < 4) {
    const shape = (inner as unknown as { shape: Record<string, z.ZodType> }).shape
    return Object.entries(shape).flatMap(([k, child]) => envKeys(child, [...prefix, k]))
  }
  return [{ name: envNameFor(prefix), path: prefix, kind: inner.def.type }]
}

const ENV_KEYS = envKeys(ConfigSchema, [])
const SECTION_PREFIXES = [...new Set(ENV_KEYS.filter(k => k.path.length > 1).map(k => envNameFor([k.path[0]]) + '_'))]

function envLayers (env: NodeJS.ProcessEnv): Layer[] {
  const layers: Layer[] = []
  for (const key of ENV_KEYS) {
    const raw = env[key.name]
    if (raw == null) continue
    // An empty variable is a mistake (an unset shell variable in a unit file), not "use the default".
    if (raw.trim() === '') {
      throw new FfmeshError(
        ErrorCodes.CONFIG_INVALID,
        `environment variable ${key.name} (${key.path.join('.')}) is empty; give it a value or unset it`
      )
    }
    const values: Record<string, unknown> = {}
    let cursor = values
    key.path.slice(0, -1).forEach(p => { cursor = (cursor[p] = {}) as Record<string, unknown> })
    cursor[key.path[key.path.length - 1]] = parseEnvValue(key, raw)
    layers.push({ source: `environment variable ${key.name}`, values })
  }
  // A misspelt variable inside a known section is a typo, not a setting for someone else.
  const known = new Set(ENV_KEYS.map(k => k.name))
  for (const name of Object.keys(env)) {
    if (known.has(name) || NON_CONFIG_ENV.has(name) || !SECTION_PREFIXES.some(p => name.startsWith(p))) continue
    throw new FfmeshError(
      ErrorCodes.CONFIG_INVALID,
      `environment variable ${name} is not a setting; check the spelling (settings map to names such as ${envNameFor(['worker', 'slots'])})`
    )
  }
  return layers
}

function parseEnvValue (key: EnvKey, raw: string): unknown {
  const bad = (what: string): never => {
    throw new FfmeshError(
      ErrorCodes.CONFIG_INVALID,
      `environment variable ${key.name} (${key.path.join('.')}) must be ${what}, got ${JSON.stringify(raw)}`
    )
  }
  const text = raw.trim()
  switch (key.kind) {
    case 'number':
      return DECIMAL.test(text) ? Number(text) : bad('a decimal number such as 2 or 0.5')
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true
      if (/^(false|0|no|off)$/i.test(text)) return false
      return bad('true or false')
    case 'array':
      try {
        return JSON.parse(text)
      } catch {
        return bad('a JSON array such as ["a","b"]')
      }
    default:
      return raw
  }
}
