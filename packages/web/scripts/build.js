#!/usr/bin/env node
// The part of the web package's build that tsc does not do (the root `npm run build` runs it after
// `tsc -b`): the advice of docs/errors.md as JSON the page loads, so the dashboard shows an error
// with the same advice as the docs; and the static files (CSS, icon) beside the compiled modules.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const pkg = path.join(here, '..')
const dist = path.join(pkg, 'dist')
const errorsDoc = path.join(pkg, '..', '..', 'docs', 'errors.md')

/**
 * `### CODE` headings and the text under each, up to the next heading. The wire codes' section
 * comes last; a code in both keeps its first (the node's) advice.
 */
export function parseErrorAdvice (markdown) {
  const advice = {}
  let code = null
  let lines = []
  const flush = () => {
    if (code != null && !(code in advice)) advice[code] = lines.join(' ').replace(/\s+/g, ' ').trim()
    code = null
    lines = []
  }
  for (const line of markdown.split('\n')) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line)
    if (heading != null) {
      flush()
      const m = /^([A-Z][A-Z0-9_]*)\s*$/.exec(heading[2])
      if (heading[1] === '###' && m != null) code = m[1]
      continue
    }
    if (code != null) lines.push(line)
  }
  flush()
  return advice
}

async function main () {
  await mkdir(dist, { recursive: true })
  const advice = parseErrorAdvice(await readFile(errorsDoc, 'utf8'))
  await writeFile(path.join(dist, 'error-advice.json'), JSON.stringify(advice))
  const statics = path.join(pkg, 'static')
  for (const name of await readdir(statics)) await copyFile(path.join(statics, name), path.join(dist, name))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch(err => {
    console.error(`web build failed: ${err.message}`)
    process.exitCode = 1
  })
}
