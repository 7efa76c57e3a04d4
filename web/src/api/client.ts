// The gateway's API, typed from its OpenAPI document (openapi.json -> schema.d.ts).
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'
import type { ApiError } from '../lib/form'

type S = components['schemas']
export type Application = S['permit.application.v1.Application']
export type Cargo = S['permit.application.v1.Cargo']
export type Vehicle = S['permit.application.v1.Vehicle']
export type Overall = S['permit.application.v1.Overall']
export type Passage = S['permit.application.v1.Passage']
export type Agent = S['permit.application.v1.Agent']
export type MaterialRef = S['permit.application.v1.MaterialRef']
export type RequiredMaterial = S['permit.application.v1.RequiredMaterial']
export type ProvinceProgress = S['permit.application.v1.ProvinceProgress']
export type Case = S['permit.approval.v1.Case']
export type Permit = S['permit.approval.v1.Permit']
export type Me = S['permit.identity.v1.Me']
export type Session = S['permit.identity.v1.Session']
export type Province = S['permit.routing.v1.Province']
export type RouteProblem = S['permit.routing.v1.RouteProblem']
export type RecommendedRoute = S['permit.routing.v1.RecommendedRoute']
export type Document = S['permit.documents.v1.Document']
export type Licence = S['permit.identity.v1.Licence']
export type Message = S['permit.notifications.v1.Message']

const SESSION_KEY = 'permit.session'

export interface StoredSession {
  accessToken: string
  refreshToken?: string
}

export function currentSession(): StoredSession | null {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null')
  } catch {
    return null
  }
}

export function storeSession(s: StoredSession | null): void {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s))
  else localStorage.removeItem(SESSION_KEY)
}

const auth: Middleware = {
  onRequest({ request }) {
    const s = currentSession()
    if (s?.accessToken && !request.headers.has('authorization')) {
      request.headers.set('authorization', `Bearer ${s.accessToken}`)
    }
    return request
  },
}

export const api = createClient<paths>({ baseUrl: '' })
api.use(auth)

/** A refusal or a failed connection, with the gateway's Chinese message and field violations. */
export class ApiFailure extends Error {
  constructor(public readonly error: ApiError) {
    super(error.message)
  }

  get offline(): boolean {
    return this.error.status === 0
  }
}

export const OFFLINE_MESSAGE = '网络连接中断，本次操作未保存，请检查网络后重试。'

export let onUnauthenticated: () => void = () => {}
export function setOnUnauthenticated(fn: () => void): void {
  onUnauthenticated = fn
}

function asError(status: number, body: unknown): ApiError {
  const e = (body as { error?: Record<string, unknown> } | undefined)?.error
  if (!e) return { status, message: '操作失败，请稍后重试。', reason: 'UNKNOWN', fieldViolations: [] }
  const info = (e.details as Array<Record<string, unknown>> | undefined)?.find((d) =>
    String(d['@type']).endsWith('ErrorInfo'))
  return {
    status,
    message: String(e.message ?? '操作失败，请稍后重试。'),
    reason: String(e.reason ?? ''),
    fieldViolations: (e.fieldViolations as ApiError['fieldViolations']) ?? [],
    metadata: (info?.metadata as Record<string, string>) ?? {},
  }
}

let refreshing: Promise<boolean> | null = null

async function refresh(): Promise<boolean> {
  const s = currentSession()
  if (!s?.refreshToken) return false
  refreshing ??= (async () => {
    try {
      const r = await fetch('/v1/sessions:refresh', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: s.refreshToken }),
      })
      if (!r.ok) return false
      const body = (await r.json()) as Session
      storeSession({ accessToken: body.accessToken ?? '', refreshToken: body.refreshToken ?? s.refreshToken })
      return true
    } catch {
      return false
    } finally {
      setTimeout(() => { refreshing = null }, 0)
    }
  })()
  return refreshing
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Run one API call: the data, or an ApiFailure. A dropped connection is retried
 * (``retries`` times, with a pause) — every write carries an etag or a request id, so a
 * retry never applies a change twice; an expired token is refreshed once.
 */
export async function call<T>(
  run: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  { retries = 2 }: { retries?: number } = {},
): Promise<T> {
  let refreshed = false
  for (let attempt = 0; ; attempt++) {
    let result: { data?: T; error?: unknown; response: Response }
    try {
      result = await run()
    } catch {
      if (attempt < retries) {
        await sleep(600 * (attempt + 1))
        continue
      }
      throw new ApiFailure({ status: 0, message: OFFLINE_MESSAGE, reason: 'NETWORK', fieldViolations: [] })
    }
    const { data, error, response } = result
    if (response.ok) return data as T
    if (response.status === 401 && !refreshed) {
      refreshed = true
      if (await refresh()) continue
      onUnauthenticated()
    }
    throw new ApiFailure(asError(response.status, error))
  }
}

/** The id part of a resource name: "applications/A1" -> "A1". */
export function idOf(name: string | undefined): string {
  return (name ?? '').split('/').pop() ?? ''
}

/** POST /v1/documents with upload progress (0..100): the document resource. */
export function uploadDocument(file: File, kind: string, onProgress: (percent: number) => void): Promise<Document> {
  return new Promise((resolve, reject) => {
    const form = new FormData()
    form.append('kind', kind)
    form.append('file', file, file.name)
    const xhr = new XMLHttpRequest()
    xhr.open('POST', '/v1/documents')
    const s = currentSession()
    if (s?.accessToken) xhr.setRequestHeader('authorization', `Bearer ${s.accessToken}`)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100))
    }
    xhr.onload = () => {
      let body: unknown
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = undefined
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as Document)
      else reject(new ApiFailure(asError(xhr.status, body)))
    }
    xhr.onerror = () => reject(new ApiFailure({
      status: 0, message: '网络连接中断，文件未上传，请重试。', reason: 'NETWORK', fieldViolations: [],
    }))
    xhr.send(form)
  })
}
