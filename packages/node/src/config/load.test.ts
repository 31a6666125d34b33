import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { envNameFor, loadConfig } from './load.js'

describe('loadConfig', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-config-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  const expectCode = async (p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> => {
    const err = await p.then(() => null, (e: unknown) => e) as { code?: string, message?: string } | null
    expect(err?.code).toBe(code)
    for (const m of mentions) expect(err?.message).toContain(m)
  }

  it('gives schema defaults with no file and no environment', async () => {
    const config = await loadConfig({ dataDir: dir, env: {} })
    expect(config.jobs.segmentSeconds).toBe(60)
    expect(config.mesh.mdns).toBe(true)
    expect(config.worker.slots).toBeGreaterThanOrEqual(1)
  })

  it('layers data dir file < --config file < environment, merging objects and replacing arrays', async () => {
    await writeFile(
      path.join(dir, 'config.yaml'),
      'name: from-data-dir\njobs:\n  segmentSeconds: 7\n  maxAttempts: 3\nmesh:\n  bootstrap: ["/ip4/10.0.0.1/tcp/1"]\n'
    )
    const flag = path.join(dir, 'flag.yaml')
    await writeFile(flag, 'jobs:\n  segmentSeconds: 9\nmesh:\n  bootstrap: ["/ip4/10.0.0.2/tcp/2"]\n')
    const config = await loadConfig({
      dataDir: dir,
      configFile: flag,
      env: {
        FFMESH_WORKER_SLOTS: '2',
        FFMESH_MESH_MDNS: 'false',
        FFMESH_LOG_LEVEL: 'debug',
        FFMESH_MESH_ALLOW_PEERS: '["a"]',
        FFMESH_DATA_DIR: '/elsewhere',
        PATH: '/bin'
      }
    })
    expect(config.name).toBe('from-data-dir')
    expect(config.jobs.segmentSeconds).toBe(9)
    expect(config.jobs.maxAttempts).toBe(3)
    expect(config.mesh.bootstrap).toEqual(['/ip4/10.0.0.2/tcp/2'])
    expect(config.worker.slots).toBe(2)
    expect(config.mesh.mdns).toBe(false)
    expect(config.log.level).toBe('debug')
    expect(config.mesh.allowPeers).toEqual(['a'])
    const fromEnv = await loadConfig({
      dataDir: dir,
      configFile: flag,
      env: { FFMESH_JOBS_SEGMENT_SECONDS: '5', FFMESH_NAME: 'x' }
    })
    expect(fromEnv.jobs.segmentSeconds).toBe(5)
    expect(fromEnv.name).toBe('x')
  })

  it('maps key paths to environment names', () => {
    expect(envNameFor(['jobs', 'segmentSeconds'])).toBe('FFMESH_JOBS_SEGMENT_SECONDS')
    expect(envNameFor(['worker', 'minFreeDisk'])).toBe('FFMESH_WORKER_MIN_FREE_DISK')
    expect(envNameFor(['name'])).toBe('FFMESH_NAME')
  })

  it('refuses a value of the wrong type, naming the key and the file', async () => {
    await writeFile(path.join(dir, 'config.yaml'), 'worker:\n  slots: many\n')
    await expectCode(
      loadConfig({ dataDir: dir, env: {} }),
      'CONFIG_INVALID',
      'worker.slots',
      path.join(dir, 'config.yaml')
    )
  })

  it('refuses an unknown key (a typo) instead of ignoring it', async () => {
    const flag = path.join(dir, 'flag.yaml')
    await writeFile(flag, 'jobs:\n  segmentSecond: 5\n')
    await expectCode(
      loadConfig({ dataDir: dir, configFile: flag, env: {} }),
      'CONFIG_INVALID',
      'jobs.segmentSecond',
      flag
    )
  })

  it('refuses bad YAML, a missing --config file and a non-mapping document', async () => {
    await writeFile(path.join(dir, 'config.yaml'), 'jobs: [unclosed\n')
    await expectCode(loadConfig({ dataDir: dir, env: {} }), 'CONFIG_INVALID', 'YAML')
    await rm(path.join(dir, 'config.yaml'))
    await expectCode(
      loadConfig({ dataDir: dir, configFile: path.join(dir, 'missing.yaml'), env: {} }),
      'CONFIG_INVALID',
      'missing.yaml'
    )
    await writeFile(path.join(dir, 'config.yaml'), '- a\n- b\n')
    await expectCode(loadConfig({ dataDir: dir, env: {} }), 'CONFIG_INVALID', 'mapping')
  })

  it('refuses bad environment values and misspelt variables, naming the variable', async () => {
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_WORKER_SLOTS: 'two' } }),
      'CONFIG_INVALID',
      'FFMESH_WORKER_SLOTS'
    )
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_MESH_MDNS: 'maybe' } }),
      'CONFIG_INVALID',
      'FFMESH_MESH_MDNS'
    )
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_WORKER_SLOTS: '-1' } }),
      'CONFIG_INVALID',
      'worker.slots',
      'FFMESH_WORKER_SLOTS'
    )
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_WORKER_SLOT: '2' } }),
      'CONFIG_INVALID',
      'FFMESH_WORKER_SLOT'
    )
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_MESH_BOOTSTRAP: '/ip4/1.2.3.4' } }),
      'CONFIG_INVALID',
      'FFMESH_MESH_BOOTSTRAP'
    )
  })

  it('treats a section whose keys are all commented out as unset', async () => {
    await writeFile(path.join(dir, 'config.yaml'), 'worker:\n  # slots: 3\njobs:\n')
    const config = await loadConfig({ dataDir: dir, env: {} })
    expect(config.jobs.segmentSeconds).toBe(60)
  })

  it('refuses a listen address that is not a multiaddr, naming the key', async () => {
    await writeFile(path.join(dir, 'config.yaml'), 'mesh:\n  listen: ["0.0.0.0:4001"]\n')
    await expectCode(loadConfig({ dataDir: dir, env: {} }), 'CONFIG_INVALID', 'mesh.listen.0', 'multiaddr')
    await rm(path.join(dir, 'config.yaml'))
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_MESH_BOOTSTRAP: '["tcp://10.0.0.1:4001"]' } }),
      'CONFIG_INVALID',
      'mesh.bootstrap.0'
    )
  })

  it('refuses a lease no longer than its heartbeat, across layers', async () => {
    await writeFile(path.join(dir, 'config.yaml'), 'jobs:\n  heartbeatSeconds: 1\n')
    await expectCode(
      loadConfig({ dataDir: dir, env: { FFMESH_JOBS_LEASE_SECONDS: '1' } }),
      'CONFIG_INVALID',
      'jobs.leaseSeconds',
      'heartbeatSeconds'
    )
    // One layer may set the lease below the default heartbeat when another lowers the heartbeat.
    const config = await loadConfig({ dataDir: dir, env: { FFMESH_JOBS_LEASE_SECONDS: '2' } })
    expect(config.jobs.leaseSeconds).toBe(2)
  })

  it('refuses a watch or library naming a profile the node does not have, or of another kind', async () => {
    await writeFile(path.join(dir, 'config.yaml'), 'watch:\n  - { path: /in, profile: h256, output: /out }\n')
    await expectCode(loadConfig({ dataDir: dir, env: {} }), 'CONFIG_INVALID', 'watch.0.profile', '"h256"', 'h265')
    await writeFile(path.join(dir, 'config.yaml'), 'libraries:\n  - { path: /lib, profiles: { video: opus }, replace: true }\n')
    await expectCode(loadConfig({ dataDir: dir, env: {} }), 'CONFIG_INVALID', 'libraries.0.profiles.video', 'audio')
    // A profile of the config's own is known like a built-in one.
    await writeFile(
      path.join(dir, 'config.yaml'),
      'profiles:\n  - { name: small, kind: video, container: mkv, video: { encoder: libx264, quality: 28 }, audio: copy }\n' +
        'watch:\n  - { path: /in, profile: small, output: /out }\n'
    )
    expect((await loadConfig({ dataDir: dir, env: {} })).watch[0]?.profile).toBe('small')
  })

  it('takes FFMESH_* numbers as plain decimals only, and an empty variable as an error', async () => {
    for (const value of ['0x10', '1e2', 'Infinity', ' ', '', '2 slots', '+3']) {
      await expectCode(
        loadConfig({ dataDir: dir, env: { FFMESH_WORKER_SLOTS: value } }),
        'CONFIG_INVALID',
        'FFMESH_WORKER_SLOTS'
      )
    }
    await expectCode(loadConfig({ dataDir: dir, env: { FFMESH_NAME: '' } }), 'CONFIG_INVALID', 'FFMESH_NAME')
    expect(
      (await loadConfig({ dataDir: dir, env: { FFMESH_JOBS_HEARTBEAT_SECONDS: '0.5' } })).jobs.heartbeatSeconds
    ).toBe(0.5)
  })

  it('refuses a YAML alias bomb instead of expanding it', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++) {
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill('*' + String.fromCharCode(96 + i))
          .join(',')}]`
      )
    }
    await writeFile(path.join(dir, 'config.yaml'), levels.join('\n') + '\n')
    await expectCode(loadConfig({ dataDir: dir, env: {} }), 'CONFIG_INVALID', 'alias')
  })
})
