// The messages, the permit certificate and the refusal of a stale etag: pure logic, free of Vue
// and of the network.

import type { ApiError } from './form'

// ---- messages (消息) -----------------------------------------------------------------

export interface MessageLike {
  link?: string
  application?: string
}

/** Where tapping a message leads: its application's detail, else its permit's certificate, else nowhere. */
export function messageTarget(m: MessageLike): string {
  const app = m.application || (m.link?.startsWith('applications/') ? m.link : '')
  if (app) return `/progress/${app.split('/').pop()}`
  if (m.link?.startsWith('permits/')) return `/permits/${m.link.split('/').pop()}`
  return ''
}

/** The unread badge: nothing at 0, the count up to 99, then "99+". */
export function badgeText(count: number | null | undefined): string {
  const n = Math.max(0, Math.floor(Number(count) || 0))
  if (n === 0) return ''
  return n > 99 ? '99+' : String(n)
}

/** "3 条未读消息" for screen readers (the badge alone is only a number). */
export function unreadLabel(count: number | null | undefined): string {
  const n = Math.max(0, Math.floor(Number(count) || 0))
  return n === 0 ? '没有未读消息' : `${n} 条未读消息`
}

/** A message's time as a phone shows it: today "14:05", this year "12月6日 14:05", else with the year. */
export function messageTime(iso: string | undefined, now: Date = new Date()): string {
  if (!iso) return ''
  const t = new Date(iso)
  if (Number.isNaN(t.getTime())) return ''
  const two = (n: number) => String(n).padStart(2, '0')
  const hm = `${two(t.getHours())}:${two(t.getMinutes())}`
  if (t.toDateString() === now.toDateString()) return hm
  if (t.getFullYear() === now.getFullYear()) return `${t.getMonth() + 1}月${t.getDate()}日 ${hm}`
  return `${t.getFullYear()}年${t.getMonth() + 1}月${t.getDate()}日 ${hm}`
}

// ---- the permit certificate (通行证) ------------------------------------------------------

export interface RouteRowLike {
  province?: string
  roads?: string[]
}

/** The provinces a route passes, in order, each once. */
export function routeProvinces(rows: RouteRowLike[] | null | undefined): string[] {
  const out: string[] = []
  for (const r of rows ?? []) if (r.province && !out.includes(r.province)) out.push(r.province)
  return out
}

export const PERMIT_STATE_LABELS: Record<string, string> = {
  PERMIT_STATE_VALID: '有效', PERMIT_STATE_EXTENDED: '已延期', PERMIT_STATE_ABOLISHED: '已废止',
  PERMIT_STATE_EXPIRED: '已过期',
}

/** Whether the certificate may still be shown on the road (valid or extended). */
export function permitUsable(state: string | undefined): boolean {
  return state === 'PERMIT_STATE_VALID' || state === 'PERMIT_STATE_EXTENDED'
}

export interface CertificateLike {
  version?: number
  state?: string
}

/** The current certificate version, or 0 while the first one is still being produced. */
export function currentCertificateVersion(certs: CertificateLike[] | null | undefined): number {
  const current = (certs ?? []).filter((c) => c.state === 'CERTIFICATE_STATE_CURRENT')
  return current.length ? Math.max(...current.map((c) => c.version ?? 0)) : 0
}

/** The file name of a download: Content-Disposition's filename* (UTF-8) or filename, else the fallback. */
export function filenameFrom(disposition: string | null | undefined, fallback: string): string {
  const d = disposition ?? ''
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(d)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(d)
  return plain ? plain[1].trim() : fallback
}

/** The public verification page a certificate's QR code opens (the same origin serves it). */
export function verifyPath(code: string | undefined): string {
  return code ? `/verify?c=${encodeURIComponent(code)}` : ''
}

// ---- a write refused because the application changed meanwhile ----------------------------

/** The service refused a write made with an old etag (ABORTED → 409, ETAG_MISMATCH). */
export function isStaleEtag(e: Pick<ApiError, 'status' | 'reason'> | null | undefined): boolean {
  return !!e && (e.reason === 'ETAG_MISMATCH' || (e.status === 409 && !e.reason))
}

/** The certificate file is still being produced (UNAVAILABLE, CERTIFICATE_PENDING): try again shortly. */
export function isCertificatePending(e: Pick<ApiError, 'status' | 'reason'> | null | undefined): boolean {
  return !!e && e.reason === 'CERTIFICATE_PENDING'
}
