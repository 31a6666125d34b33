import type { ServerResponse } from 'node:http'

/**
 * The page may run only the node's own scripts and styles (no inline script or style, no eval),
 * talk only to the node, and never be framed: a script injected through a job's file name or an
 * error message cannot run, and no other site can overlay the dashboard to steal clicks.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

/** Headers on every dashboard response, pages, assets, API answers and errors alike. */
export function setSecurityHeaders (res: ServerResponse): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY)
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('x-frame-options', 'DENY')
  res.setHeader('referrer-policy', 'no-referrer')
  res.setHeader('cross-origin-opener-policy', 'same-origin')
  res.setHeader('cross-origin-resource-policy', 'same-origin')
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), usb=()')
}
