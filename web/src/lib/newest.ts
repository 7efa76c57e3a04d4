/** The answer of a request that a newer one of the same kind may overtake. */
export const STALE = Symbol('stale')

/**
 * Calls of one kind of request (a list's page, say) where only the newest call's answer
 * counts: an older call that answers after a newer one was made (a status tab tapped,
 * then a search sent before the tab's list came back) gets ``STALE``, also instead of its
 * error, so it cannot overwrite what the newer one shows.
 */
export function newestOnly() {
  let issued = 0
  return async <T>(load: () => Promise<T>): Promise<T | typeof STALE> => {
    const ticket = ++issued
    try {
      const value = await load()
      return ticket === issued ? value : STALE
    } catch (e) {
      if (ticket !== issued) return STALE
      throw e
    }
  }
}
