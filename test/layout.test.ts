import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * The layout the packages' builds rely on. Every file under packages/<name>/src except *.test.ts
 * is compiled into dist/ and shipped, so test support belongs in test/; and a package reaches
 * another only through its published name (@ffmesh/<name>), never into its src/ by path.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PACKAGES = path.join(ROOT, 'packages')

/** Names test support goes by (fakes, harnesses, stubs, mocks, fixtures). */
const TEST_SUPPORT_NAME = /fake|harness|stub|mock|fixture/i

const isSpec = (file: string): boolean => file.endsWith('.test.ts')

interface SourceFile { pkg: string, file: string }

function sourceFiles (): SourceFile[] {
  return readdirSync(PACKAGES).flatMap(pkg => {
    const src = path.join(PACKAGES, pkg, 'src')
    if (!existsSync(src)) return []
    return readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter(name => /\.(ts|js|mjs)$/.test(name))
      .map(name => ({ pkg, file: path.join(src, name) }))
  })
}

/**
 * Relative module specifiers: imports, re-exports and import(). With `loaded`, only those the
 * emitted JavaScript loads: under verbatimModuleSyntax (tsconfig.base.json) `import type` and
 * `export type` are erased, and everything else stays.
 */
function relativeImports (text: string, { loaded = false } = {}): string[] {
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    let specifier: ts.Expression | undefined
    if (ts.isImportDeclaration(node) && !(loaded && node.importClause?.isTypeOnly === true)) {
      specifier = node.moduleSpecifier
    } else if (ts.isExportDeclaration(node) && !(loaded && node.isTypeOnly)) {
      specifier = node.moduleSpecifier
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      specifier = node.arguments[0]
    }
    if (specifier != null && ts.isStringLiteral(specifier) && specifier.text.startsWith('.')) found.push(specifier.text)
    ts.forEachChild(node, visit)
  }
  visit(ts.createSourceFile('module.ts', text, ts.ScriptTarget.Latest))
  return found
}

/** Why importing `specifier` from `file` (in packages/<pkg>/src) breaks the layout; null if it does not. */
function importProblem ({ pkg, file }: SourceFile, specifier: string): string | null {
  const target = path.resolve(path.dirname(file), specifier)
  const inPackages = path.relative(PACKAGES, target)
  const other = inPackages.split(path.sep)[0]
  if (!inPackages.startsWith('..') && other !== pkg) {
    return `reaches into packages/${other} by path: import @ffmesh/${other}, or move a test that needs both to test/`
  }
  if (!isSpec(file) && path.relative(path.join(PACKAGES, pkg), target).startsWith('..')) {
    return 'product code reaches outside its package (what it needs would not ship with it)'
  }
  return null
}

const shown = (file: string): string => path.relative(ROOT, file)

/** The module a relative specifier names: specifiers say `.js`, the source is `.ts`. */
const resolveTs = (from: string, specifier: string): string =>
  path.resolve(path.dirname(from), specifier).replace(/\.js$/, '.ts')

/**
 * Where the product starts running each package's code, as src/ files: the manifest's exports and
 * the modules its bin scripts load (both name dist/ files); the web package exports nothing, and
 * the page the node serves loads its main.js (packages/node/src/ui/assets.ts).
 */
function entryPoints (pkg: string): string[] {
  const dir = path.join(PACKAGES, pkg)
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    exports?: Record<string, { import?: string }>
    bin?: Record<string, string>
  }
  const dist = Object.values(manifest.exports ?? {}).flatMap(e => e.import != null ? [path.join(dir, e.import)] : [])
  for (const bin of Object.values(manifest.bin ?? {})) {
    const file = path.join(dir, bin)
    dist.push(...relativeImports(readFileSync(file, 'utf8')).map(spec => path.resolve(path.dirname(file), spec)))
  }
  if (pkg === 'web') dist.push(path.join(dir, 'dist', 'main.js'))
  return dist
    .filter(f => !path.relative(path.join(dir, 'dist'), f).startsWith('..'))
    .map(f => path.join(dir, 'src', path.relative(path.join(dir, 'dist'), f)).replace(/\.js$/, '.ts'))
}

/** Every src/ file the product's JavaScript loads, from its entry points on. */
function reachedByProduct (): Set<string> {
  const reached = new Set<string>()
  const pending = readdirSync(PACKAGES).filter(pkg => existsSync(path.join(PACKAGES, pkg, 'src'))).flatMap(entryPoints)
  for (let file = pending.pop(); file != null; file = pending.pop()) {
    if (reached.has(file) || !existsSync(file)) continue
    reached.add(file)
    const loads = relativeImports(readFileSync(file, 'utf8'), { loaded: true })
    pending.push(...loads.map(spec => resolveTs(file as string, spec)))
  }
  return reached
}

/** The tests: specs beside the code and everything under test/. */
function testFiles (files: SourceFile[]): string[] {
  const underTest = readdirSync(path.join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
    .filter(name => name.endsWith('.ts'))
    .map(name => path.join(ROOT, 'test', name))
  return [...files.map(f => f.file).filter(isSpec), ...underTest]
}

describe('package layout', () => {
  const files = sourceFiles()

  it('reads the source of every package', () => {
    const names = files.map(f => shown(f.file))
    for (const pkg of ['protocol', 'web', 'node', 'cli']) expect(files.some(f => f.pkg === pkg), pkg).toBe(true)
    expect(names).toContain(path.join('packages', 'protocol', 'src', 'control.ts'))
    expect(names).toContain(path.join('packages', 'node', 'src', 'control', 'server.test.ts'))
  })

  it('ships no test support: no fake, harness, stub, mock or fixture in a src/ outside *.test.ts', () => {
    const found = files.filter(f => !isSpec(f.file) && TEST_SUPPORT_NAME.test(path.basename(f.file)))
    expect(found.map(f => shown(f.file)), 'move these to test/helpers or test/fixtures').toEqual([])
  })

  it("imports no other package's source by path, and product code nothing outside its package", () => {
    const problems = files.flatMap(f =>
      relativeImports(readFileSync(f.file, 'utf8')).flatMap(spec => {
        const problem = importProblem(f, spec)
        return problem == null ? [] : [`${shown(f.file)}: '${spec}' ${problem}`]
      })
    )
    expect(problems).toEqual([])
  })

  it('has no module in a src/ that only tests use (it would ship in dist/ as test support)', () => {
    const reached = reachedByProduct()
    expect(reached.size, 'the entry points were found').toBeGreaterThan(files.length / 2)
    const usedByTests = new Set(
      testFiles(files).flatMap(t =>
        relativeImports(readFileSync(t, 'utf8'), { loaded: true }).map(spec => resolveTs(t, spec)))
    )
    const testOnly = files.filter(f => !isSpec(f.file) && !reached.has(f.file) && usedByTests.has(f.file))
    expect(testOnly.map(f => shown(f.file)), 'move these to test/helpers, or use them in the product').toEqual([])
  })

  it('the rules catch what they are for', () => {
    for (const name of ['fake-node-api.ts', 'watch-test-harness.ts', 'stub-runner.ts', 'media-fixtures.ts']) {
      expect(TEST_SUPPORT_NAME.test(name), name).toBe(true)
    }
    expect(TEST_SUPPORT_NAME.test('library-spec.ts')).toBe(false)
    const text = [
      "import { a } from '../../node/src/control/server.js'",
      "import type {\n  B\n} from './b.js'",
      "export { c } from '../c.js'",
      "export type { C } from './c.js'",
      "const d = async () => await import('./d.js')",
      "import { type E } from './e.js'",
      "import { pino } from 'pino'"
    ].join('\n')
    const cross = '../../node/src/control/server.js'
    expect(relativeImports(text)).toEqual([cross, './b.js', '../c.js', './c.js', './d.js', './e.js'])
    expect(relativeImports(text, { loaded: true })).toEqual([cross, '../c.js', './d.js', './e.js'])
    const cliSpec = { pkg: 'cli', file: path.join(PACKAGES, 'cli', 'src', 'cli.test.ts') }
    const nodeFile = { pkg: 'node', file: path.join(PACKAGES, 'node', 'src', 'media', 'index.ts') }
    const nodeSpec = { pkg: 'node', file: path.join(PACKAGES, 'node', 'src', 'media', 'plan.test.ts') }
    expect(importProblem(cliSpec, '../../node/src/control/server.js')).not.toBeNull()
    expect(importProblem(cliSpec, './client.js')).toBeNull()
    expect(importProblem(nodeFile, '../../../../test/helpers/local-pipeline.js')).not.toBeNull()
    expect(importProblem(nodeFile, '../../../protocol/src/control.js')).not.toBeNull()
    expect(importProblem(nodeSpec, '../../../../test/fixtures/media.js')).toBeNull()
  })
})
