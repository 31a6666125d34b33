import { describe, expect, it } from 'vitest'
import { createSessionStore, MAX_SESSIONS, SESSION_IDLE_MS, SESSION_MAX_AGE_MS, tokensEqual } from './sessions.js'

describe('dashboard sessions', () => {
  it('end after SESSION_IDLE_MS without use, and after SESSION_MAX_AGE_MS in any case', () => {
    let now = 0
    const store = createSessionStore(() => now)
    const a = store.create()
    now += SESSION_IDLE_MS - 1
    expect(store.get(a.id)).toBe(a)
    now += SESSION_IDLE_MS - 1
    expect(store.get(a.id)).toBe(a)
    now += SESSION_IDLE_MS + 1
    expect(store.get(a.id)).toBeNull()
    const b = store.create()
    for (let t = 0; t < SESSION_MAX_AGE_MS; t += SESSION_IDLE_MS / 2) {
      now += SESSION_IDLE_MS / 2
      store.get(b.id)
    }
    now += 1
    expect(store.get(b.id)).toBeNull()
  })

  it('closes a session\'s streams when it ends, and keeps a session with an open stream in use', () => {
    let now = 0
    const store = createSessionStore(() => now)
    const s = store.create()
    let closed = 0
    store.onEnd(s.id, () => { closed++ })
    now += SESSION_IDLE_MS * 2
    store.sweep()
    expect(store.get(s.id)).toBe(s)
    store.end(s.id)
    expect(closed).toBe(1)
    expect(store.get(s.id)).toBeNull()
    const t = store.create()
    const forget = store.onEnd(t.id, () => { closed++ })
    forget()
    now += SESSION_IDLE_MS + 1
    store.sweep()
    expect(store.size).toBe(0)
    expect(closed).toBe(1)
  })

  it('keeps at most MAX_SESSIONS, ending the oldest first; endAll ends every one', () => {
    const store = createSessionStore()
    const first = store.create()
    for (let i = 0; i < MAX_SESSIONS; i++) store.create()
    expect(store.size).toBe(MAX_SESSIONS)
    expect(store.get(first.id)).toBeNull()
    store.endAll()
    expect(store.size).toBe(0)
  })

  it('makes unguessable ids and tokens, compared in constant time', () => {
    const store = createSessionStore()
    const a = store.create()
    const b = store.create()
    expect(a.id).toMatch(/^[\w-]{43}$/)
    expect(new Set([a.id, a.csrf, b.id, b.csrf]).size).toBe(4)
    expect(tokensEqual(a.csrf, a.csrf)).toBe(true)
    expect(tokensEqual(b.csrf, a.csrf)).toBe(false)
    expect(tokensEqual('short', a.csrf)).toBe(false)
    expect(tokensEqual(null, a.csrf)).toBe(false)
  })
})
