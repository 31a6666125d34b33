import { z } from 'zod'

/**
 * The web dashboard's own routes, beside the control API it serves through the same dispatcher
 * (control.ts). The page signs in here and learns its CSRF token.
 */

/** scrypt reads the whole password; more than this is not a password a person types. */
export const MAX_UI_PASSWORD_LENGTH = 1024
/** A short password is guessed from the LAN however slowly logins are allowed. */
export const MIN_UI_PASSWORD_LENGTH = 8

export const LoginBodySchema = z.strictObject({
  password: z.string().min(1).max(MAX_UI_PASSWORD_LENGTH)
})
export type LoginRequest = z.infer<typeof LoginBodySchema>

/** The header every state-changing dashboard request carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-ffmesh-csrf'

export const UiRoutes = {
  /** Who the page is: signed in or not; with a session, its CSRF token and the node. */
  session: { method: 'GET', path: '/ui/session' },
  login: { method: 'POST', path: '/ui/login', body: LoginBodySchema },
  logout: { method: 'POST', path: '/ui/logout' }
} as const

export interface UiSession {
  signedIn: boolean
  /** A password is set (`ffmesh ui password`): every request needs a session from /ui/login. */
  passwordSet: boolean
  /** Send it in the CSRF_HEADER of every POST and DELETE; null when not signed in. */
  csrf: string | null
  /** The node serving the page; null when not signed in. */
  node: { id: string, name: string, version: string } | null
}
