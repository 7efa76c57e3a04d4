// The form's own logic, free of Vue and of the network: units, route rows, upload checks,
// drafts kept in the browser, and the API's field violations mapped onto the form's fields.

/** Every upload is at most 1 MB (AP-4, AP-8, AP-9): refused here, before it is sent. */
export const MAX_UPLOAD_BYTES = 1024 * 1024

/**
 * A decimal typed in tonnes or metres -> integer thousandths (kg or mm), or null when it is
 * not a non-negative number with at most three decimals (AP-3).
 */
export function toThousandths(text: string | null | undefined): number | null {
  const s = String(text ?? '').trim()
  const m = /^(\d{1,7})(?:\.(\d{0,3}))?$/.exec(s)
  if (!m) return null
  const frac = (m[2] ?? '').padEnd(3, '0')
  return Number(m[1]) * 1000 + Number(frac)
}

/** Integer thousandths (kg, mm) -> the display with exactly three decimals: 12500 -> "12.500". */
export function fromThousandths(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  const n = Math.round(Number(value))
  if (!Number.isFinite(n) || n < 0) return ''
  return `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}`
}

/** The typed value padded to three decimals (12.5 -> 12.500); left as typed when it is not valid (AP-3). */
export function padThree(text: string): string {
  const n = toThousandths(text)
  return n === null ? text : fromThousandths(n)
}

/** Why a typed tonnes/metres value is refused, or '' when it is fine. */
export function decimalProblem(text: string, what: string, required = true): string {
  const s = String(text ?? '').trim()
  if (!s) return required ? `请填写${what}` : ''
  if (!/^\d+(\.\d*)?$/.test(s)) return `${what}应为数字`
  if ((s.split('.')[1] ?? '').length > 3) return `${what}最多保留三位小数`
  if (toThousandths(s) === null) return `${what}数值过大`
  return ''
}

// ---- route rows (AP-7) ---------------------------------------------------------------

export interface RouteRow {
  province: string
  roads: string[]
}

export function emptyRow(province = ''): RouteRow {
  return { province, roads: [] }
}

/** A new row after ``index`` (or at the end), the origin province first when there are none. */
export function addRow(rows: RouteRow[], index = rows.length - 1, province = ''): RouteRow[] {
  const out = rows.map((r) => ({ ...r, roads: [...r.roads] }))
  out.splice(index + 1, 0, emptyRow(province))
  return out
}

export function removeRow(rows: RouteRow[], index: number): RouteRow[] {
  return rows.filter((_, i) => i !== index).map((r) => ({ ...r, roads: [...r.roads] }))
}

/** "G4-G1811" (hyphens, also 、，, or spaces) -> ["G4", "G1811"]. */
export function roadsFromText(text: string): string[] {
  return String(text ?? '')
    .split(/[-－—–、,，\s]+/)
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean)
}

export function roadsToText(roads: string[]): string {
  return roads.join('-')
}

/**
 * The warning the manual asks for (AP-7a): the last row is not the destination province
 * (a route leaving and entering a province again); the user confirms and goes on.
 */
export function destinationWarning(rows: RouteRow[], destination: string, name = (c: string) => c): string {
  const filled = rows.filter((r) => r.province)
  if (!destination || filled.length === 0) return ''
  const last = filled[filled.length - 1].province
  if (last === destination) return ''
  return `最后一行省份（${name(last)}）不是终点省份（${name(destination)}），请确认路线无误后继续。`
}

/** Why the rows cannot be saved as they are, per row ('' when fine). */
export function rowProblems(rows: RouteRow[]): string[] {
  return rows.map((r) => {
    if (!r.province) return '请选择省份'
    if (r.roads.length === 0) return '请填写该省路线'
    return ''
  })
}

// ---- uploads (AP-4, AP-8, AP-9) --------------------------------------------------------

export type Accept = 'image' | 'plan'
const IMAGE_TYPES = ['image/jpeg', 'image/png']
const IMAGE_EXT = ['jpg', 'jpeg', 'png']
const PLAN_EXT = [...IMAGE_EXT, 'pdf', 'doc', 'docx']

export function acceptAttr(accept: Accept): string {
  return accept === 'image' ? 'image/jpeg,image/png' : 'image/jpeg,image/png,.pdf,.doc,.docx'
}

export function humanSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)}MB`
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)}KB`
  return `${bytes}B`
}

/** Why a chosen file is refused before it is sent ('' when it may be uploaded). */
export function fileProblem(file: { name: string; size: number; type?: string }, accept: Accept): string {
  const ext = (file.name.split('.').pop() ?? '').toLowerCase()
  const allowed = accept === 'image' ? IMAGE_EXT : PLAN_EXT
  const typeOk = accept === 'image' ? IMAGE_TYPES.includes(file.type ?? '') || IMAGE_EXT.includes(ext)
    : allowed.includes(ext)
  if (!typeOk) {
    return accept === 'image' ? '仅支持 jpg、png 格式的图片，请更换图片格式后重新上传'
      : '仅支持 jpg、png 图片或 doc、docx、pdf 文件'
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return `文件大小为 ${humanSize(file.size)}，超过 1MB，请压缩或更换后重新上传`
  }
  if (file.size === 0) return '文件为空，请重新选择'
  return ''
}

// ---- drafts kept in the browser --------------------------------------------------------

const DRAFT_PREFIX = 'permit.draft.'

export function saveLocal<T>(key: string, value: T, store: Storage = localStorage): void {
  try {
    store.setItem(DRAFT_PREFIX + key, JSON.stringify({ savedAt: Date.now(), value }))
  } catch {
    // Full or disabled storage: the server copy is still there.
  }
}

export function loadLocal<T>(key: string, store: Storage = localStorage): T | null {
  try {
    const raw = store.getItem(DRAFT_PREFIX + key)
    return raw ? (JSON.parse(raw).value as T) : null
  } catch {
    return null
  }
}

export function dropLocal(key: string, store: Storage = localStorage): void {
  store.removeItem(DRAFT_PREFIX + key)
}

// ---- the API's refusals ----------------------------------------------------------------

export interface FieldViolation {
  field: string
  description: string
  reason?: string
}

export interface ApiError {
  status: number
  message: string
  reason: string
  fieldViolations: FieldViolation[]
  metadata?: Record<string, string>
}

/** "cargo.weight_kg" / "vehicles[0].plate_number" -> "cargo.weightKg" / "vehicles[0].plateNumber". */
export function camelPath(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** The error body of any refusal -> one message per form field (camelCase paths). */
export function fieldMessages(err: ApiError | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!err) return out
  for (const v of err.fieldViolations ?? []) {
    const key = camelPath(v.field)
    out[key] = out[key] ? `${out[key]}；${v.description}` : v.description
  }
  const metaField = err.metadata?.field
  if (metaField && Object.keys(out).length === 0) out[camelPath(metaField)] = err.message
  return out
}

/** The message for a field or any of its sub-fields ("cargo" matches "cargo.weightKg"). */
export function messageFor(messages: Record<string, string>, ...fields: string[]): string {
  for (const f of fields) {
    if (messages[f]) return messages[f]
  }
  for (const f of fields) {
    const hit = Object.keys(messages).find((k) => k.startsWith(f + '.') || k.startsWith(f + '['))
    if (hit) return messages[hit]
  }
  return ''
}

// ---- dates -------------------------------------------------------------------------------

export interface ApiDate {
  year?: number
  month?: number
  day?: number
}

export function dateText(d: ApiDate | null | undefined): string {
  if (!d || !d.year) return ''
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`
}

export function parseDate(text: string): ApiDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined
}
