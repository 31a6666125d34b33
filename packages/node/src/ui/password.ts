import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * The dashboard password is kept as an scrypt hash: `scrypt$N$r$p$<salt>$<hash>` (base64url), so
 * the cost can be raised later and old hashes still verify.
 *
 * N = 2^15, r = 8, p = 3 is one of OWASP's equivalent scrypt settings (Password Storage Cheat
 * Sheet: N=2^17 r=8 p=1, or 2^16/8/2, 2^15/8/3, ...): it needs 32 MiB per hash instead of 128 MiB,
 * which a small NAS can spare, and takes about 0.3 s here. Logins are rate-limited before hashing.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const
const SALT_BYTES = 16
const KEY_BYTES = 32
/** Node refuses scrypt above 32 MiB by default; 128 × N × r is exactly that at our parameters. */
const SCRYPT_MAXMEM = 64 * 1024 * 1024
/** Bounds on stored parameters, so a tampered file cannot make a login take minutes or gigabytes. */
const MAX_LOG2_N = 20
const MAX_R = 16
const MAX_P = 16

function derive (password: string, salt: Buffer, params: { N: number, r: number, p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: Math.max(SCRYPT_MAXMEM, 256 * params.N * params.r) }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => {
      if (err != null) reject(err)
      else resolve(key)
    })
  })
}

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, SCRYPT_PARAMS)
  const { N, r, p } = SCRYPT_PARAMS
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

interface ParsedHash { N: number, r: number, p: number, salt: Buffer, key: Buffer }

/** The parts of a stored hash; null when it is not one this module wrote. */
export function parsePasswordHash (stored: string): ParsedHash | null {
  const parts = stored.trim().split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  const salt = Buffer.from(parts[4] as string, 'base64url')
  const key = Buffer.from(parts[5] as string, 'base64url')
  const powerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0 && Math.log2(N) <= MAX_LOG2_N
  if (!powerOfTwo || !Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) {
    return null
  }
  if (salt.length < 8 || key.length !== KEY_BYTES) return null
  return { N, r, p, salt, key }
}

/** Compares in constant time; a malformed hash never matches. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored)
  if (parsed == null) return false
  const key = await derive(password, parsed.salt, parsed)
  return timingSafeEqual(key, parsed.key)
}
