#!/usr/bin/env node
// Kept as plain JS outside dist/ so npm can link the binary before the TypeScript build has run.
// It checks Node's version before loading anything: on an older Node, libp2p would fail later
// with an obscure "Promise.withResolvers is not a function".
const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (major < MIN_NODE_MAJOR) {
  console.error(
    `ffmesh needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${process.version} (${process.execPath}). Install Node.js ${MIN_NODE_MAJOR} and put it first on PATH.`
  )
  process.exit(1)
}
const { main } = await import('../dist/main.js')
main(process.argv.slice(2)).then((code) => { process.exitCode = code })
