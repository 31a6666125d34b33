import { randomBytes } from 'node:crypto'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { formatSwarmKey, parseSwarmKey } from './config/secrets.js'
import { createLogger } from './logger.js'

/** Every way a secret could be written down in a log line. */
function encodings (bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes)
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('hex').toUpperCase()]
}

function capture (): { lines: string[], stream: { write: (s: string) => void } } {
  const lines: string[] = []
  return { lines, stream: { write: (s: string) => { lines.push(s) } } }
}

describe('secrets never reach the log', () => {
  it('redacts swarm and private keys wherever a component puts them', async () => {
    const swarmKey = new Uint8Array(randomBytes(32))
    const identity = await generateKeyPair('Ed25519')
    const privateKey = privateKeyToProtobuf(identity)
    const secrets = [...encodings(swarmKey), ...encodings(privateKey), ...encodings(identity.raw)]
    const { lines, stream } = capture()
    const log = createLogger({ level: 'trace' }, stream)
    const swarmHex = Buffer.from(swarmKey).toString('hex')
    log.info({ swarmKey: swarmHex }, 'top level')
    log.info({ swarmKey }, 'as bytes')
    log.info({ privateKey: identity }, 'a key object')
    log.info({ mesh: { swarmKey: swarmHex, privateKey } }, 'one level down')
    log.info(
      { init: { mesh: { swarmKey: swarmHex, privateKey: Buffer.from(privateKey).toString('base64') } } },
      'two levels down'
    )
    log.info({ a: { b: { c: { psk: swarmHex, key: swarmHex } } } }, 'three levels down')
    log.child({ component: 'mesh', swarmKey: swarmHex }).info('a child bound to a key')
    log.child({ component: 'mesh' }).child({ peer: 'x' }).warn({ config: { swarmKey: swarmHex } }, 'a grandchild')
    log.debug({ token: swarmHex, authorization: `Bearer ${swarmHex}` }, 'tokens')
    await new Promise(resolve => setImmediate(resolve))
    expect(lines.length).toBe(9)
    const all = lines.join('\n')
    for (const s of secrets) expect(all).not.toContain(s)
    expect(all).toContain('[redacted]')
    // The lines are still useful: messages and non-secret fields survive.
    expect(all).toContain('a grandchild')
    expect(all).toContain('"component":"mesh"')
  })

  it('names a bad swarm key file without quoting its content', () => {
    const secret = randomBytes(31).toString('hex')
    for (const text of [
      `${secret}\n`,
      `/key/swarm/psk/1.0.0/\n/base16/\n${secret}\n`,
      `/key/swarm/psk/1.0.0/\n/base64/\n${secret}\n`
    ]) {
      let message = ''
      try {
        parseSwarmKey(text, '/data/swarm.key')
      } catch (err) {
        message = (err as Error).message
      }
      expect(message).toContain('/data/swarm.key')
      expect(message).not.toContain(secret)
    }
    expect(parseSwarmKey(formatSwarmKey(new Uint8Array(32).fill(7)), 'f')).toEqual(new Uint8Array(32).fill(7))
  })
})
