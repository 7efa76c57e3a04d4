import { describe, expect, it } from 'vitest'
import { STALE, newestOnly } from './newest'

function later<T>(ms: number, value: T, fail = false): Promise<T> {
  return new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), ms))
}

describe('only the newest list request counts (PQ-2)', () => {
  it('drops an older answer that arrives after a newer request', async () => {
    const newest = newestOnly()
    const all = newest(() => later(30, 'every application'))  // the 全部 tab, slow
    const search = newest(() => later(5, 'the searched one'))  // the search, sent after it
    expect(await search).toBe('the searched one')
    expect(await all).toBe(STALE)
  })

  it('keeps every answer when each comes before the next request', async () => {
    const newest = newestOnly()
    expect(await newest(() => later(1, 'first'))).toBe('first')
    expect(await newest(() => later(1, 'second'))).toBe('second')
  })

  it('reports the newest request failing, and drops an older one failing', async () => {
    const newest = newestOnly()
    const old = newest(() => later(20, 'old', true))
    const current = newest(() => later(5, 'current', true))
    await expect(current).rejects.toThrow('current')
    expect(await old).toBe(STALE)
  })
})
