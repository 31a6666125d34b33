import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { paced } from '../../../test/helpers/pace.js'

/** `ffmesh node` as systemd runs it: the real binary and the real node (mesh off: no network). */
const BIN = fileURLToPath(new URL('../bin/ffmesh.js', import.meta.url))
// The dashboard on a free port: 7676 may be another node's on a shared machine.
const ENV = {
  PATH: process.env.PATH,
  HOME: os.tmpdir(),
  FFMESH_MESH_ENABLED: 'false',
  FFMESH_LOG_LEVEL: 'warn',
  FFMESH_UI_LISTEN: '127.0.0.1:0'
}

function run (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...ENV, ...env }, timeout: paced(30_000) },
      (err, stdout, stderr) => {
        resolve({ code: err == null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
      }
    )
  })
}

describe('ffmesh node', () => {
  let dir: string
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-node-cmd-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('refuses an uninitialised data dir with a code, a hint and no stack trace', async () => {
    const result = await run(['node', '--data-dir', path.join(dir, 'empty')])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error NOT_INITIALIZED: .*ffmesh init --data-dir/m)
    expect(result.stderr).not.toMatch(/^\s+at /m)
  })

  it('refuses an invalid setting before starting anything', async () => {
    const data = path.join(dir, 'bad-config')
    expect((await run(['init', '--data-dir', data])).code).toBe(0)
    const result = await run(['node', '--data-dir', data], { FFMESH_WORKER_SLOTS: 'lots' })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error CONFIG_INVALID: .*FFMESH_WORKER_SLOTS/m)
    const missing = await run(['node', '--data-dir', data, '--config', path.join(dir, 'nope.yaml')])
    expect(missing.stderr).toMatch(/^error CONFIG_INVALID: .*nope\.yaml/m)
  })

  it('prints one ready line, serves the CLI, and stops cleanly on SIGTERM', async () => {
    const data = path.join(dir, 'live')
    expect((await run(['init', '--data-dir', data])).code).toBe(0)
    const child = spawn(process.execPath, [BIN, 'node', '--data-dir', data], {
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); if (stdout.includes('\n')) resolve() })
      child.once('exit', code => { reject(new Error(`node exited early with ${code}`)) })
    })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
    try {
      await ready
      expect(stdout).toMatch(
        /^ffmesh node ready: peer 12D3KooW\w+, data dir .*live, control socket .*control\.sock, dashboard http:\/\/127\.0\.0\.1:\d+\/\n$/
      )
      const status = await run(['status', '--json', '--data-dir', data])
      expect(JSON.parse(status.stdout)).toEqual([])
      const started = Date.now()
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(existsSync(path.join(data, 'control.sock'))).toBe(false)
    } finally {
      if (child.exitCode == null) child.kill('SIGKILL')
    }
  })
})
