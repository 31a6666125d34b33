import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const REPO = path.resolve(import.meta.dirname, '..')
const UNINSTALL = path.join(REPO, 'systemd', 'uninstall.sh')
const MAX_EXPOSURE = 2.5
// The host's own units (sysinit.target …) that `systemd-analyze verify --root` resolves against.
const HOST_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system']

/** Every entry under `root`: type, mode, and for files a content hash (and mtime when asked). */
async function listTree (
  root: string,
  options: { mtimes?: boolean; hashes?: boolean } = {}
): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = path.join(dir, name)
      const rel = path.relative(root, abs)
      const s = await lstat(abs)
      const mode = (s.mode & 0o7777).toString(8)
      if (s.isSymbolicLink()) {
        out.set(rel, `link ${await readlink(abs)}`)
      } else if (s.isDirectory()) {
        out.set(rel, `dir ${mode}`)
        await walk(abs)
      } else {
        const hash =
          options.hashes === true
            ? createHash('sha256')
                .update(await readFile(abs))
                .digest('hex')
            : ''
        out.set(rel, `file ${mode} ${hash} ${options.mtimes === true ? s.mtimeMs : ''}`.trim())
      }
    }
  }
  await walk(root)
  return out
}

/** The tree outside the copied program, as `path mode` lines. */
async function systemFiles (root: string): Promise<string[]> {
  const tree = await listTree(root)
  return [...tree].filter(([p]) => !p.startsWith('opt/ffmesh/')).map(([p, v]) => `${p} ${v.split(' ')[1]}`)
}

/**
 * A frozen copy of what install.sh reads from the checkout (built packages, lock file, the
 * scripts; node_modules by symlink), so a rebuild elsewhere during the test changes nothing.
 */
async function snapshotCheckout (): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-checkout-'))
  for (const file of ['package.json', 'package-lock.json', 'systemd']) {
    await cp(path.join(REPO, file), path.join(dir, file), { recursive: true })
  }
  for (const pkg of ['protocol', 'web', 'node', 'cli']) {
    for (const part of ['package.json', 'dist', 'bin']) {
      const from = path.join(REPO, 'packages', pkg, part)
      if (existsSync(from)) {
        await cp(from, path.join(dir, 'packages', pkg, part), { recursive: true, preserveTimestamps: true })
      }
    }
  }
  await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'))
  return dir
}

let checkout: string
async function install (root: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [
    path.join(checkout, 'systemd', 'install.sh'),
    '--root',
    root,
    '--node',
    process.execPath,
    ...args
  ])
  return stdout
}

// One installation (the slow part: about 200 MB of program files) serves every test below.
let root: string
let firstListing: Map<string, string>
beforeAll(async () => {
  checkout = await snapshotCheckout()
  root = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-install-'))
  await install(root, '--watch', '/srv/in', '--profile', 'h265', '--out', '/srv/out')
  firstListing = await listTree(root, { hashes: true, mtimes: true })
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
  await rm(checkout, { recursive: true, force: true })
})

describe('systemd unit', () => {
  let unitRoot: string
  beforeAll(async () => {
    // The installed unit, drop-in and ExecStart wrapper beside the host's own units.
    unitRoot = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-unit-'))
    await cp(path.join(root, 'etc'), path.join(unitRoot, 'etc'), { recursive: true })
    await cp(path.join(root, 'usr'), path.join(unitRoot, 'usr'), { recursive: true })
    const hostUnits = HOST_UNITS.find((dir) => existsSync(path.join(dir, 'sysinit.target')))
    await mkdir(path.join(unitRoot, 'usr/lib/systemd'), { recursive: true })
    await cp(hostUnits ?? HOST_UNITS[0], path.join(unitRoot, 'usr/lib/systemd/system'), {
      recursive: true,
      verbatimSymlinks: true
    })
  })
  afterAll(async () => { await rm(unitRoot, { recursive: true, force: true }) })

  it('passes systemd-analyze verify with its drop-in', async () => {
    const result = await run('systemd-analyze', ['verify', `--root=${unitRoot}`, 'ffmesh.service'])
    expect(result.stderr.trim()).toBe('')
  })

  it(`is exposed at most ${MAX_EXPOSURE} by systemd-analyze security`, async () => {
    for (const args of [[path.join(REPO, 'systemd', 'ffmesh.service')], [`--root=${unitRoot}`, 'ffmesh.service']]) {
      const { stdout } = await run('systemd-analyze', ['security', '--offline=true', ...args])
      const match = /Overall exposure level for ffmesh\.service: (\d+(?:\.\d+)?)/.exec(stdout)
      expect(match, stdout).not.toBeNull()
      const exposure = Number(match?.[1])
      console.log(`systemd-analyze security --offline=true ${args.join(' ')}: exposure ${exposure}`)
      expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE)
    }
  })

  it('keeps the settings V8, libp2p and the LAN need', async () => {
    const unit = await readFile(path.join(REPO, 'systemd', 'ffmesh.service'), 'utf8')
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m)
    expect(unit).not.toMatch(/^IPAddressDeny=/m)
    expect(unit).toMatch(/^RestrictAddressFamilies=.*AF_NETLINK/m)
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/ffmesh node$/m)
  })
})

describe('install.sh and uninstall.sh', () => {

  it('installs exactly the expected files, with their modes', async () => {
    expect(await systemFiles(root)).toEqual([
      'etc 755', 'etc/systemd 755', 'etc/systemd/system 755',
      'etc/systemd/system/ffmesh.service 644', 'etc/systemd/system/ffmesh.service.d 755',
      'etc/systemd/system/ffmesh.service.d/10-folders.conf 644',
      'opt 755', 'opt/ffmesh 755',
      'srv 755', 'srv/out 755',
      'usr 755', 'usr/local 755', 'usr/local/bin 755', 'usr/local/bin/ffmesh 755',
      'var 755', 'var/lib 755', 'var/lib/ffmesh 700',
      'var/lib/ffmesh/config.yaml 600', 'var/lib/ffmesh/identity.key 600', 'var/lib/ffmesh/swarm.key 600'
    ])
    const program = path.join(root, 'opt/ffmesh')
    expect((await readdir(program)).sort()).toEqual(['node', 'node_modules'])
    const modules = await readdir(path.join(program, 'node_modules'))
    for (const dep of ['libp2p', 'chokidar', 'level', 'pino', 'zod', 'commander', '@ffmesh']) {
      expect(modules).toContain(dep)
    }
    for (const devOnly of ['vitest', 'typescript', 'eslint', 'fast-check', '@vitest', '.bin', 'playwright-core']) {
      expect(modules).not.toContain(devOnly)
    }
    // The dashboard's page and the advice it shows come along with the node.
    expect((await readdir(path.join(program, 'node_modules/@ffmesh'))).sort()).toEqual([
      'cli',
      'node',
      'protocol',
      'web'
    ])
    for (const file of ['main.js', 'app.css', 'error-advice.json']) {
      expect(existsSync(path.join(program, 'node_modules/@ffmesh/web/dist', file)), file).toBe(true)
    }
    expect([...firstListing.keys()].filter((p) => p.endsWith('.tsbuildinfo'))).toEqual([])
    expect(await readFile(path.join(root, 'var/lib/ffmesh/swarm.key'), 'utf8')).toMatch(
      /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/
    )
    expect(await readFile(path.join(root, 'var/lib/ffmesh/config.yaml'), 'utf8')).toContain(
      'path: "/srv/in"\n    profile: "h265"\n    output: "/srv/out"'
    )
    expect(await readFile(path.join(root, 'etc/systemd/system/ffmesh.service.d/10-folders.conf'), 'utf8')).toContain(
      'ReadWritePaths=-/srv/in\nReadWritePaths=-/srv/out\n'
    )
    expect(await readFile(path.join(root, 'usr/local/bin/ffmesh'), 'utf8')).toContain(
      'exec /opt/ffmesh/node/bin/node /opt/ffmesh/node_modules/@ffmesh/cli/bin/ffmesh.js "$@"'
    )
    // The copied program runs on its own: only its production dependencies are there.
    const { stdout } = await run(
      path.join(program, 'node/bin/node'),
      [path.join(program, 'node_modules/@ffmesh/cli/bin/ffmesh.js'), '--help'],
      { cwd: os.tmpdir() }
    )
    expect(stdout).toMatch(/submit/)
  })

  it('changes nothing when run a second time', async () => {
    const out = await install(root, '--watch', '/srv/in', '--profile', 'h265', '--out', '/srv/out')
    expect(out).not.toMatch(/wrote|installed the program/)
    const second = await listTree(root, { hashes: true, mtimes: true })
    // Files keep content, mode and mtime; directory mtimes are not listed (a staging copy comes and goes).
    const lines = (tree: Map<string, string>): string[] => [...tree].map(([p, v]) => `${p} ${v}`)
    expect(lines(second)).toEqual(lines(firstListing))
  })

  it('imports the swarm key of another machine and refuses to replace a different one', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'ffmesh-install-other-'))
    try {
      const key = path.join(root, 'var/lib/ffmesh/swarm.key')
      // DESTDIR is the other spelling of --root.
      await run(
        'bash',
        [path.join(checkout, 'systemd', 'install.sh'), '--node', process.execPath, '--swarm-key-file', key],
        { env: { ...process.env, DESTDIR: other } }
      )
      expect(await readFile(path.join(other, 'var/lib/ffmesh/swarm.key'), 'utf8')).toBe(await readFile(key, 'utf8'))
      const stranger = path.join(other, 'stranger.key')
      await writeFile(stranger, `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`)
      await expect(install(other, '--swarm-key-file', stranger)).rejects.toMatchObject({
        stderr: expect.stringMatching(/differs/)
      })
      await writeFile(stranger, 'not a key\n')
      await expect(install(other, '--swarm-key-file', stranger)).rejects.toMatchObject({
        stderr: expect.stringMatching(/not a swarm key/)
      })
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })

  it('uninstall keeps the data without --purge and removes it with --purge', async () => {
    await run('bash', [UNINSTALL, '--root', root])
    expect(await systemFiles(root)).toEqual([
      'etc 755', 'etc/systemd 755', 'etc/systemd/system 755',
      'opt 755',
      'srv 755', 'srv/out 755',
      'usr 755', 'usr/local 755', 'usr/local/bin 755',
      'var 755', 'var/lib 755', 'var/lib/ffmesh 700',
      'var/lib/ffmesh/config.yaml 600', 'var/lib/ffmesh/identity.key 600', 'var/lib/ffmesh/swarm.key 600'
    ])
    const keyBefore = firstListing.get('var/lib/ffmesh/swarm.key')
    expect((await listTree(root, { hashes: true, mtimes: true })).get('var/lib/ffmesh/swarm.key')).toBe(keyBefore)
    await run('bash', [UNINSTALL, '--root', root, '--purge'])
    expect(await systemFiles(root)).toEqual([
      'etc 755', 'etc/systemd 755', 'etc/systemd/system 755', 'opt 755', 'srv 755', 'srv/out 755',
      'usr 755', 'usr/local 755', 'usr/local/bin 755', 'var 755', 'var/lib 755'
    ])
  })
})
