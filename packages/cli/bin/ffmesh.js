#!/usr/bin/env node
// Kept as plain JS outside dist/ so npm can link the binary before the TypeScript build has run.
import { main } from '../dist/main.js'

main(process.argv.slice(2)).then((code) => { process.exitCode = code })
