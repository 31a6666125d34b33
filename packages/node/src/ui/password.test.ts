import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readPasswordState, setUiPassword } from './password-file.js'
import { hashPassword, parsePasswordHash, verifyPassword } from './password.js'

let dir: string
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'ffm-ui-password-')) })
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('the dashboard password', () => {
  it('is stored as a salted scrypt hash that verifies the password and nothing else', async () => {
    const a = await hashPassword('correct horse')
    const b = await hashPassword('correct horse')
    expect(a).toMatch(/^scrypt\$32768\$8\$3\$[\w-]+\$[\w-]{43}$/)
    expect(a).not.toBe(b)
    expect(a).not.toContain('correct')
    expect(await verifyPassword('correct horse', a)).toBe(true)
    expect(await verifyPassword('correct horsE', a)).toBe(false)
    expect(await verifyPassword('', a)).toBe(false)
  })

  it('refuses hashes it did not write, and parameters that would make a login take minutes', async () => {
    for (const bad of [
      '',
      'plain',
      'scrypt$1$8$1$c2FsdHNhbHQ$x',
      'scrypt$32768$8$3$c2FsdHNhbHQ$short',
      `scrypt$${2 ** 24}$8$1$c2FsdHNhbHRzYWx0$${'A'.repeat(43)}`,
      `scrypt$1000$8$1$c2FsdHNhbHRzYWx0$${'A'.repeat(43)}`
    ]) {
      expect(parsePasswordHash(bad), bad).toBeNull()
      expect(await verifyPassword('x', bad)).toBe(false)
    }
  })

  it('is written 0600 by `ffmesh ui password`, and too short a password is refused', async () => {
    const file = path.join(dir, 'ui-password')
    expect(await readPasswordState(file)).toEqual({ hash: null, stamp: 'none' })
    await expect(setUiPassword(file, 'short')).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' })
    await setUiPassword(file, 'long enough')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const state = await readPasswordState(file)
    expect(await verifyPassword('long enough', state.hash as string)).toBe(true)
    await setUiPassword(file, 'another one')
    const next = await readPasswordState(file)
    expect(next.stamp).not.toBe(state.stamp)
    expect((await readFile(file, 'utf8')).trim()).toBe(next.hash)
    await writeFile(file, 'not a hash\n')
    await expect(readPasswordState(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })
})
