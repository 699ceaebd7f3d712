import {
  ApiError,
  BackupList,
  BackupProblems,
  BackupView,
  EventList,
  InstanceEvent,
  InstanceId,
  InstanceList,
  InstanceUpgrades,
  InstanceView,
  LogsView,
  OrganizationBackups,
  PlatformOverview,
  PostBackupBody,
  PostRestoreBody,
  PostUpgradesBody,
  PutInstanceBody,
  RestoreView,
  UpgradeOverview,
  UpgradeRefusal,
  UpgradesStarted,
} from '@commons/provisioner/contract'
import type { z } from 'zod'
import { env } from './env.server'
import { readSse } from './sse.server'

export type { AvailableUpgrade, PlatformOverview, BackupProblems, BackupView, InstanceEvent, InstanceView, RestoreView, UpgradeStatus, UpgradeView } from '@commons/provisioner/contract'
export type BackupList = z.infer<typeof BackupList>
export type UpgradeOverview = z.infer<typeof UpgradeOverview>
export type UpgradesStarted = z.infer<typeof UpgradesStarted>
export type UpgradeRefusal = z.infer<typeof UpgradeRefusal>
export type LogsView = z.infer<typeof LogsView>

/** The provisioner could not be reached (refused, timed out, or a proxy in between said 502-504). */
export class ProvisionerUnavailable extends Error {
  readonly key = 'provisioner.unavailable' as const
  constructor(cause: unknown) {
    super(`the provisioner is not reachable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'ProvisionerUnavailable'
  }
}

/** The provisioner answered with one of the contract's errors (`{ error: { code, message } }`). */
export class ProvisionerRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`the provisioner refused (${status} ${code}): ${message}`)
    this.name = 'ProvisionerRefused'
  }
}

/** The provisioner answered, but not in the shape of the contract: a version mismatch or a bug. */
export class ProvisionerProtocolError extends Error {
  constructor(message: string) {
    super(`the provisioner's answer does not match the contract: ${message}`)
    this.name = 'ProvisionerProtocolError'
  }
}

export interface ProvisionerOptions {
  baseUrl: string
  token?: string
  /** For connecting and for whole JSON answers; streams may last longer. */
  timeoutMs?: number
}

/**
 * The provisioner's HTTP API (provisioner/src/api/contract.ts). Every answer
 * is checked against the contract's zod schemas; transport failures become
 * ProvisionerUnavailable so pages can still render and say so.
 */
export class ProvisionerClient {
  private readonly baseUrl: string
  private readonly timeoutMs: number

  constructor(private readonly options: ProvisionerOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '')
    this.timeoutMs = options.timeoutMs ?? 5_000
  }

  async putInstance(id: string, body: z.input<typeof PutInstanceBody>) {
    // Our own request goes through the contract too: a mistake shows here, not as a 400 from afar.
    return this.json('PUT', `/instances/${InstanceId.parse(id)}`, InstanceView, PutInstanceBody.parse(body))
  }

  async listInstances(organizationId: string) {
    const list = await this.json('GET', `/instances?organization=${encodeURIComponent(organizationId)}`, InstanceList)
    return list.instances
  }

  /** The instance, or null when the provisioner does not know it. */
  async getInstance(id: string) {
    try {
      return await this.json('GET', `/instances/${encodeURIComponent(id)}`, InstanceView)
    } catch (error) {
      if (error instanceof ProvisionerRefused && error.status === 404) return null
      throw error
    }
  }

  restartInstance(id: string) {
    return this.json('POST', `/instances/${encodeURIComponent(id)}/restart`, InstanceView)
  }

  deleteInstance(id: string) {
    return this.json('DELETE', `/instances/${encodeURIComponent(id)}`, InstanceView)
  }

  async events(id: string, after = 0) {
    const list = await this.json('GET', `/instances/${encodeURIComponent(id)}/events?after=${after}`, EventList)
    return list.events
  }

  logs(id: string, tail = 200) {
    return this.json('GET', `/instances/${encodeURIComponent(id)}/logs?tail=${tail}`, LogsView)
  }

  /** The instance's backups and restores, newest first. */
  backups(id: string) {
    return this.json('GET', `/instances/${encodeURIComponent(id)}/backups`, BackupList)
  }

  /** Starts a backup now; the answer is the backup as it begins (status running). */
  async backUp(id: string, requestedBy?: string) {
    // Async, so a body the contract refuses (checked here, as for putInstance) rejects like a refusal would.
    return this.json('POST', `/instances/${encodeURIComponent(id)}/backups`, BackupView, PostBackupBody.parse({ requestedBy }))
  }

  /** Starts putting a backup back (the provisioner backs up the current state first). */
  async restore(id: string, backupId: string, requestedBy?: string) {
    return this.json('POST', `/instances/${encodeURIComponent(id)}/restore`, RestoreView, PostRestoreBody.parse({ backupId, requestedBy }))
  }

  /** The organisation's backups, also those of its removed instances. */
  async organizationBackups(organizationId: string) {
    const list = await this.json('GET', `/backups?organization=${encodeURIComponent(organizationId)}`, OrganizationBackups)
    return list.backups
  }

  /** What an operator must look at: failed backups and checks, overdue instances. */
  backupProblems() {
    return this.json('GET', '/backups/problems', BackupProblems)
  }

  /** Hosts, instances by phase, failed instances and recent step failures: the health page. */
  overview() {
    return this.json('GET', '/overview', PlatformOverview)
  }

  /** Instances whose recipe has a newer version in the catalog, and the recent upgrades of all instances. */
  upgrades() {
    return this.json('GET', '/upgrades', UpgradeOverview)
  }

  /**
   * Queues upgrades of these instances (the provisioner runs them one after
   * another); each instance it will not upgrade comes back as a refusal with
   * its code, not as an error of the whole request.
   */
  async startUpgrades(instanceIds: string[], requestedBy?: string) {
    return this.json('POST', '/upgrades', UpgradesStarted, PostUpgradesBody.parse({ instances: instanceIds, requestedBy }))
  }

  /** The instance's upgrades, newest first. */
  instanceUpgrades(id: string) {
    return this.json('GET', `/instances/${encodeURIComponent(id)}/upgrades`, InstanceUpgrades)
  }

  /**
   * The live event stream, each event checked against the contract. Ends when
   * the provisioner closes the stream or `signal` aborts.
   */
  async eventStream(id: string, options: { lastEventId?: string; signal?: AbortSignal } = {}): Promise<AsyncGenerator<InstanceEvent>> {
    const headers: Record<string, string> = { Accept: 'text/event-stream' }
    if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId
    const response = await this.stream('GET', `/instances/${encodeURIComponent(id)}/events/stream`, { headers, signal: options.signal })
    if (!response.body) throw new ProvisionerProtocolError('the event stream has no body')
    return (async function* () {
      for await (const message of readSse(response.body!)) {
        const event = InstanceEvent.safeParse(parseJson(message.data))
        if (!event.success) throw new ProvisionerProtocolError(`event: ${event.error.issues.map((i) => i.message).join('; ')}`)
        yield event.data
      }
    })()
  }

  /** The export archive as the provisioner sends it (status checked), for relaying to the browser. */
  exportArchive(id: string, signal?: AbortSignal) {
    return this.stream('GET', `/instances/${encodeURIComponent(id)}/export`, { signal })
  }

  private async json<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    const { response, text } = await this.send(method, path, { body, readBody: true })
    await this.throwUnlessOk(method, path, response, text)
    const parsed = schema.safeParse(parseJson(text))
    if (!parsed.success) {
      throw new ProvisionerProtocolError(`${method} ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    }
    return parsed.data
  }

  /** A request whose body the caller reads as it arrives (event stream, export archive). */
  private async stream(method: string, path: string, options: { headers?: Record<string, string>; signal?: AbortSignal }) {
    const { response } = await this.send(method, path, options)
    if (!response.ok) await this.throwUnlessOk(method, path, response, await response.text().catch(() => ''))
    return response
  }

  /**
   * One request. The timeout covers connecting and, with readBody, the whole
   * answer; a stream may then run as long as the caller's signal allows.
   */
  private async send(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; readBody?: boolean },
  ): Promise<{ response: Response; text: string }> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`
    if (options.body !== undefined) headers['Content-Type'] = 'application/json'
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
        redirect: 'error',
      })
      return { response, text: options.readBody ? await response.text() : '' }
    } catch (error) {
      // The caller gave up (the browser went away): not the provisioner's fault.
      if (options.signal?.aborted) throw error
      throw new ProvisionerUnavailable(error)
    } finally {
      clearTimeout(timer)
    }
  }

  private async throwUnlessOk(method: string, path: string, response: Response, text: string) {
    if (response.ok) return
    const error = ApiError.safeParse(parseJson(text))
    // A proxy between us and the provisioner answers these when the provisioner is down. The
    // provisioner itself says 503 with a contract error too (backups-unavailable): that is a refusal.
    if (!error.success && (response.status === 502 || response.status === 503 || response.status === 504)) {
      throw new ProvisionerUnavailable(new Error(`HTTP ${response.status}`))
    }
    if (!error.success) throw new ProvisionerProtocolError(`${method} ${path}: HTTP ${response.status} without an error body (${text.slice(0, 200)})`)
    throw new ProvisionerRefused(response.status, error.data.error.code, error.data.error.message)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

let client: ProvisionerClient | undefined

/** The client for PROVISIONER_URL with PROVISIONER_API_TOKEN. */
export function provisioner(): ProvisionerClient {
  client ??= new ProvisionerClient({ baseUrl: env().PROVISIONER_URL, token: env().PROVISIONER_API_TOKEN })
  return client
}
