import { defineConfig } from 'vitest/config'
import { measurePace, PACE_ENV } from './test/helpers/pace.js'

/** The per-test limit on a quiet machine; stretched by the measured pace (test/helpers/pace.ts). */
const BASE_TEST_TIMEOUT_MS = 120_000

// Unit specs sit next to what they test; multi-node, multi-process and multi-host tests live in
// test/. Fault scenarios are their own project so `npm run test:faults` can run them alone.
export default defineConfig(async () => {
  const pace = Number(process.env[PACE_ENV] ?? await measurePace())
  process.env[PACE_ENV] = String(pace)
  if (pace > 1) {
    // eslint-disable-next-line no-console -- the run says once why its limits are longer
    console.log(
      `test pace ${pace}: this machine is slower or busier than the suite's reference; every wait limit is stretched ${pace}x`
    )
  }
  const timeout = Math.ceil(BASE_TEST_TIMEOUT_MS * pace)
  return {
    test: {
      testTimeout: timeout,
      hookTimeout: timeout,
      env: { [PACE_ENV]: String(pace) },
      // Media tests run ffmpeg; more than two files at once on 2 cores only adds contention.
      maxWorkers: 2,
      projects: [
        { extends: true, test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] } },
        {
          extends: true,
          test: {
            name: 'integration',
            include: ['test/**/*.test.ts'],
            exclude: ['test/faults/**'],
            setupFiles: ['test/helpers/cleanup-setup.ts']
          }
        },
        {
          extends: true,
          test: { name: 'faults', include: ['test/faults/**/*.test.ts'], setupFiles: ['test/helpers/cleanup-setup.ts'] }
        }
      ]
    }
  }
})
