import { describe, expect, it } from 'vitest'
import {
  badgeText, currentCertificateVersion, filenameFrom, isCertificatePending, isStaleEtag, messageTarget,
  messageTime, permitUsable, routeProvinces, unreadLabel, verifyPath,
} from './notices'

describe('messages (MS-1)', () => {
  it('opens the related application, else the permit, else nothing', () => {
    expect(messageTarget({ application: 'applications/A1', link: 'permits/P1' })).toBe('/progress/A1')
    expect(messageTarget({ link: 'applications/A2' })).toBe('/progress/A2')
    expect(messageTarget({ link: 'permits/P1' })).toBe('/permits/P1')
    expect(messageTarget({ link: 'cases/C1' })).toBe('')
    expect(messageTarget({})).toBe('')
  })

  it('shows no badge at zero, the count up to 99, then 99+', () => {
    expect(badgeText(0)).toBe('')
    expect(badgeText(-1)).toBe('')
    expect(badgeText(undefined)).toBe('')
    expect(badgeText(1)).toBe('1')
    expect(badgeText(99)).toBe('99')
    expect(badgeText(100)).toBe('99+')
  })

  it('names the unread count for screen readers', () => {
    expect(unreadLabel(0)).toBe('没有未读消息')
    expect(unreadLabel(-1)).toBe('没有未读消息')
    expect(unreadLabel(3)).toBe('3 条未读消息')
  })

  it('gives a message time as a phone shows it', () => {
    const now = new Date(2026, 11, 6, 15, 0)
    expect(messageTime(new Date(2026, 11, 6, 9, 5).toISOString(), now)).toBe('09:05')
    expect(messageTime(new Date(2026, 0, 2, 14, 30).toISOString(), now)).toBe('1月2日 14:30')
    expect(messageTime(new Date(2025, 10, 3, 8, 0).toISOString(), now)).toBe('2025年11月3日 08:00')
    expect(messageTime(undefined, now)).toBe('')
    expect(messageTime('not a time', now)).toBe('')
  })
})

describe('the permit certificate (CT-1)', () => {
  it('lists the provinces of a route once each, in order', () => {
    expect(routeProvinces([{ province: '130000', roads: ['G4'] }, { province: '370000' },
      { province: '130000' }, { province: '320000' }, {}])).toEqual(['130000', '370000', '320000'])
    expect(routeProvinces(undefined)).toEqual([])
  })

  it('is usable on the road only while valid or extended', () => {
    expect(permitUsable('PERMIT_STATE_VALID')).toBe(true)
    expect(permitUsable('PERMIT_STATE_EXTENDED')).toBe(true)
    expect(permitUsable('PERMIT_STATE_ABOLISHED')).toBe(false)
    expect(permitUsable('PERMIT_STATE_EXPIRED')).toBe(false)
    expect(permitUsable(undefined)).toBe(false)
  })

  it('knows the current certificate version, 0 while the first is produced', () => {
    expect(currentCertificateVersion([{ version: 1, state: 'CERTIFICATE_STATE_SUPERSEDED' },
      { version: 2, state: 'CERTIFICATE_STATE_CURRENT' }])).toBe(2)
    expect(currentCertificateVersion([{ version: 1, state: 'CERTIFICATE_STATE_PENDING' }])).toBe(0)
    expect(currentCertificateVersion(undefined)).toBe(0)
  })

  it('saves the file under the name the service gives', () => {
    expect(filenameFrom(`attachment; filename*=UTF-8''${encodeURIComponent('通行证-132026000001-v1.pdf')}`, 'x.pdf'))
      .toBe('通行证-132026000001-v1.pdf')
    expect(filenameFrom('attachment; filename="cert.pdf"', 'x.pdf')).toBe('cert.pdf')
    expect(filenameFrom(null, '通行证.pdf')).toBe('通行证.pdf')
    expect(filenameFrom("attachment; filename*=UTF-8''%E0%A4%A", 'x.pdf')).toBe('x.pdf')
  })

  it('links the public verification page with the code escaped', () => {
    expect(verifyPath('v1.abc+/=')).toBe('/verify?c=v1.abc%2B%2F%3D')
    expect(verifyPath(undefined)).toBe('')
  })
})

describe('refusals the pages act on', () => {
  it('recognises a stale etag and a certificate still being produced', () => {
    expect(isStaleEtag({ status: 409, reason: 'ETAG_MISMATCH' })).toBe(true)
    expect(isStaleEtag({ status: 409, reason: '' })).toBe(true)
    expect(isStaleEtag({ status: 409, reason: 'CONCURRENT_UPDATE' })).toBe(false)
    expect(isStaleEtag({ status: 400, reason: 'APPLICATION_NOT_DRAFT' })).toBe(false)
    expect(isStaleEtag(null)).toBe(false)
    expect(isCertificatePending({ status: 503, reason: 'CERTIFICATE_PENDING' })).toBe(true)
    expect(isCertificatePending({ status: 503, reason: 'UNAVAILABLE' })).toBe(false)
  })
})
