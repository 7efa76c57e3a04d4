// What every page shares: the signed-in user and the provinces (code -> name).
import { reactive } from 'vue'
import { api, call, type Me, type Province } from './api/client'

export const store = reactive({
  me: null as Me | null,
  provinces: [] as Province[],
  flash: '',
  // Unread messages (消息), shown as a badge on the home page and the tab bar; -1 until first known.
  unread: -1,
})

let flashTimer = 0
/** A short confirmation ("提交成功"), announced to screen readers by the status region of App.vue. */
export function flash(message: string): void {
  store.flash = message
  clearTimeout(flashTimer)
  flashTimer = window.setTimeout(() => { store.flash = '' }, 2500)
}

export async function loadMe(): Promise<Me> {
  store.me = await call(() => api.GET('/v1/me'))
  return store.me
}

let unreadInFlight: Promise<number> | null = null
/** The unread count from the service (GET /v1/messages:unreadCount); keeps the last known on failure. */
export function refreshUnread(): Promise<number> {
  unreadInFlight ??= (async () => {
    try {
      const r = await call(() => api.GET('/v1/messages:unreadCount'), { retries: 0 })
      store.unread = r.unreadCount ?? 0
    } catch {
      // The badge keeps its last value; the next refresh tries again.
    } finally {
      unreadInFlight = null
    }
    return store.unread
  })()
  return unreadInFlight
}

export async function loadProvinces(): Promise<Province[]> {
  if (store.provinces.length === 0) {
    const r = await call(() => api.GET('/v1/provinces', { params: { query: { pageSize: 100 } } }))
    store.provinces = r.provinces ?? []
  }
  return store.provinces
}

export function provinceName(code: string | undefined): string {
  if (!code) return ''
  return store.provinces.find((p) => p.code === code)?.name ?? code
}

export const STATES: Array<{ state: string; label: string }> = [
  { state: 'STATE_DRAFT', label: '未提交' },
  { state: 'STATE_SUBMITTED', label: '未受理' },
  { state: 'STATE_PROCESSING', label: '处理中' },
  { state: 'STATE_ISSUED', label: '已发证' },
  { state: 'STATE_DENIED', label: '不予许可' },
  { state: 'STATE_WITHDRAWN', label: '已撤销' },
  { state: 'STATE_RETURNED', label: '退回补正' },
]

export function stateLabel(state: string | undefined): string {
  return STATES.find((s) => s.state === state)?.label ?? ''
}

export function newRequestId(): string {
  return crypto.randomUUID ? crypto.randomUUID()
    : `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`
}
