import { defineConfig } from 'vitest/config'

// Unit specs sit next to what they test; multi-node, multi-process and multi-host tests live in
// test/. Fault scenarios are their own project so `npm run test:faults` can run them alone.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Media tests run ffmpeg; more than two files at once on 2 cores only adds contention.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: ['test/faults/**'], setupFiles: ['test/helpers/cleanup-setup.ts'] } },
      { extends: true, test: { name: 'faults', include: ['test/faults/**/*.test.ts'], setupFiles: ['test/helpers/cleanup-setup.ts'] } }
    ]
  }
})
