// The unread badge keeps itself current while a page showing it is open: on opening, every
// half minute, and whenever the phone brings the page back to the front.
import { onBeforeUnmount, onMounted } from 'vue'
import { refreshUnread } from './store'

export const UNREAD_POLL_MS = 30_000

export function useUnreadBadge(): void {
  let timer = 0
  const onVisible = () => {
    if (document.visibilityState === 'visible') refreshUnread()
  }
  onMounted(() => {
    refreshUnread()
    timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') refreshUnread()
    }, UNREAD_POLL_MS)
    document.addEventListener('visibilitychange', onVisible)
    window.addEventListener('focus', onVisible)
  })
  onBeforeUnmount(() => {
    clearInterval(timer)
    document.removeEventListener('visibilitychange', onVisible)
    window.removeEventListener('focus', onVisible)
  })
}
