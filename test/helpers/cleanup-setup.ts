import { afterAll } from 'vitest'
import { removeDataDirs } from './node-harness.js'

// Node data dirs hold sockets, logs and blobs: no test file leaves them behind in the temp dir.
afterAll(removeDataDirs)
