import type pg from 'pg'
import type { DesiredState, InstanceEvent, InstanceView, Phase, PutInstanceBody } from '../api/contract.ts'
import { generateSecret, type SecretBox } from '../crypto.ts'

export type InstanceRow = {
  id: string
  organizationId: string
  organizationSlug: string
  organizationName: string
  recipe: string
  recipeVersion: string
  adminEmail: string
  desired: DesiredState | 'removed'
  generation: number
  restartRequested: number
  restartDone: number
  phase: Phase
  failureStep: string | null
  failureMessage: string | null
  attempts: number
  failedGeneration: number | null
  nextAttemptAt: Date | null
  removedAt: Date | null
  purgeAt: Date | null
  purgedAt: Date | null
  createdAt: Date
  updatedAt: Date
}

const columns = `id, organization_id AS "organizationId", organization_slug AS "organizationSlug", organization_name AS "organizationName",
  recipe, recipe_version AS "recipeVersion", admin_email AS "adminEmail", desired, generation,
  restart_requested AS "restartRequested", restart_done AS "restartDone", phase, failure_step AS "failureStep",
  failure_message AS "failureMessage", attempts, failed_generation AS "failedGeneration", next_attempt_at AS "nextAttemptAt",
  removed_at AS "removedAt", purge_at AS "purgeAt", purged_at AS "purgedAt", created_at AS "createdAt", updated_at AS "updatedAt"`

/** A second live instance of a tool for the same organisation would take the same host name. */
export class HostTakenError extends Error {
  constructor(readonly existingId: string) {
    super(`the organisation already has this tool as instance ${existingId}`)
    this.name = 'HostTakenError'
  }
}

export class OrganizationMismatchError extends Error {
  constructor() {
    super('the instance belongs to another organisation or recipe')
    this.name = 'OrganizationMismatchError'
  }
}

export class InstanceRemovedError extends Error {
  constructor() {
    super('the instance has been removed; request a new one')
    this.name = 'InstanceRemovedError'
  }
}

const phaseFor: Record<DesiredState | 'removed', Phase> = { running: 'provisioning', suspended: 'suspending', removed: 'removing' }

export class InstanceStore {
  constructor(
    readonly pool: pg.Pool,
    readonly box: SecretBox,
  ) {}

  async get(id: string): Promise<InstanceRow | undefined> {
    const { rows } = await this.pool.query<InstanceRow>(`SELECT ${columns} FROM instances WHERE id = $1`, [id])
    return rows[0]
  }

  async list(filter: { organizationId?: string } = {}): Promise<InstanceRow[]> {
    const { rows } = filter.organizationId
      ? await this.pool.query<InstanceRow>(`SELECT ${columns} FROM instances WHERE organization_id = $1 ORDER BY created_at`, [filter.organizationId])
      : await this.pool.query<InstanceRow>(`SELECT ${columns} FROM instances ORDER BY created_at`)
    return rows
  }

  /** Instances the loop still has work for: not purged, and not failed at their current generation. */
  async active(): Promise<InstanceRow[]> {
    const { rows } = await this.pool.query<InstanceRow>(
      `SELECT ${columns} FROM instances WHERE purged_at IS NULL AND (failed_generation IS NULL OR failed_generation <> generation) ORDER BY created_at`,
    )
    return rows
  }

  /**
   * Stores the desired state, and on first sight the instance's secrets, in
   * one transaction: once the caller has its 202, a crash cannot lose them.
   */
  async put(id: string, body: PutInstanceBody, recipeVersion: string, secretNeeds: ReadonlyMap<string, number>): Promise<InstanceRow> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`org:${body.organization.id}:${body.recipe}`])
      const existing = (await client.query<InstanceRow>(`SELECT ${columns} FROM instances WHERE id = $1 FOR UPDATE`, [id])).rows[0]
      if (existing) {
        if (existing.organizationId !== body.organization.id || existing.recipe !== body.recipe) throw new OrganizationMismatchError()
        if (existing.desired === 'removed') throw new InstanceRemovedError()
        if (existing.desired !== body.state || existing.organizationName !== body.organization.name || existing.adminEmail !== body.adminEmail) {
          await client.query(
            `UPDATE instances SET desired = $2, organization_name = $3, admin_email = $4, generation = generation + 1,
               phase = CASE WHEN desired = $2 THEN phase ELSE $5 END, attempts = 0, next_attempt_at = NULL,
               failure_step = NULL, failure_message = NULL, updated_at = now() WHERE id = $1`,
            [id, body.state, body.organization.name, body.adminEmail, phaseFor[body.state]],
          )
        }
      } else {
        const twin = (
          await client.query<{ id: string }>(`SELECT id FROM instances WHERE organization_id = $1 AND recipe = $2 AND desired <> 'removed'`, [
            body.organization.id,
            body.recipe,
          ])
        ).rows[0]
        if (twin) throw new HostTakenError(twin.id)
        await client.query(
          `INSERT INTO instances (id, organization_id, organization_slug, organization_name, recipe, recipe_version, admin_email, desired, phase)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [id, body.organization.id, body.organization.slug, body.organization.name, body.recipe, recipeVersion, body.adminEmail, body.state, phaseFor[body.state]],
        )
      }
      for (const [name, length] of secretNeeds) {
        await client.query('INSERT INTO instance_secrets (instance_id, name, sealed) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          id,
          name,
          this.box.seal(generateSecret(length), `${id}/${name}`),
        ])
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK')
      throw error
    } finally {
      client.release()
    }
    const row = await this.get(id)
    if (!row) throw new Error(`instance ${id} vanished after it was stored`)
    return row
  }

  /**
   * Moves the instance to another recipe version. With `upgrading` (an
   * upgrade, or the way back from one) it starts a new generation in phase
   * upgrading: the loop works towards that version with a fresh retry budget.
   */
  async setRecipeVersion(id: string, version: string, opts: { upgrading: boolean }): Promise<void> {
    if (opts.upgrading) {
      await this.pool.query(
        `UPDATE instances SET recipe_version = $2, generation = generation + 1, phase = 'upgrading', attempts = 0, next_attempt_at = NULL,
           failure_step = NULL, failure_message = NULL, updated_at = now() WHERE id = $1`,
        [id, version],
      )
    } else {
      await this.pool.query('UPDATE instances SET recipe_version = $2, updated_at = now() WHERE id = $1', [id, version])
    }
  }

  /** Secrets a new recipe version needs and the instance does not have yet. */
  async addSecrets(id: string, needs: ReadonlyMap<string, number>): Promise<void> {
    for (const [name, length] of needs) {
      await this.pool.query('INSERT INTO instance_secrets (instance_id, name, sealed) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        id,
        name,
        this.box.seal(generateSecret(length), `${id}/${name}`),
      ])
    }
  }

  /** Tries a failed instance again (a new generation, a fresh retry budget) if it is still failed at `generation`; true when it was. */
  async retryFailed(id: string, generation: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE instances SET generation = generation + 1, attempts = 0, next_attempt_at = NULL,
         phase = CASE WHEN desired = 'suspended' THEN 'suspending' ELSE 'provisioning' END, failure_step = NULL, failure_message = NULL, waits_for_host = NULL, updated_at = now()
       WHERE id = $1 AND generation = $2 AND failed_generation = $2 AND desired <> 'removed'`,
      [id, generation],
    )
    return (rowCount ?? 0) > 0
  }

  async requestRestart(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE instances SET restart_requested = restart_requested + 1, generation = generation + 1, attempts = 0, next_attempt_at = NULL,
         phase = 'provisioning', failure_step = NULL, failure_message = NULL, updated_at = now() WHERE id = $1`,
      [id],
    )
  }

  async remove(id: string, graceDays: number): Promise<void> {
    await this.pool.query(
      `UPDATE instances SET desired = 'removed', generation = generation + 1, phase = CASE WHEN phase IN ('removed', 'purged') THEN phase ELSE 'removing' END,
         attempts = 0, next_attempt_at = NULL, failure_step = NULL, failure_message = NULL,
         purge_at = COALESCE(purge_at, now() + make_interval(days => $2)), updated_at = now()
       WHERE id = $1 AND desired <> 'removed'`,
      [id, graceDays],
    )
  }

  async secrets(id: string): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ name: string; sealed: string }>('SELECT name, sealed FROM instance_secrets WHERE instance_id = $1', [id])
    return new Map(rows.map((r) => [r.name, this.box.open(r.sealed, `${id}/${r.name}`)]))
  }

  async hooksDone(id: string): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ hook: string }>('SELECT hook FROM hook_runs WHERE instance_id = $1', [id])
    return new Set(rows.map((r) => r.hook))
  }

  async recordHook(id: string, hook: string): Promise<void> {
    await this.pool.query('INSERT INTO hook_runs (instance_id, hook) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, hook])
  }

  async setPhase(id: string, phase: Phase): Promise<void> {
    const extra = phase === 'removed' ? ', removed_at = now()' : phase === 'purged' ? ', purged_at = now()' : ''
    await this.pool.query(`UPDATE instances SET phase = $2, attempts = 0, next_attempt_at = NULL, updated_at = now()${extra} WHERE id = $1`, [id, phase])
  }

  async markRestartDone(id: string, upTo: number): Promise<void> {
    await this.pool.query('UPDATE instances SET restart_done = GREATEST(restart_done, $2) WHERE id = $1', [id, upTo])
  }

  /** One failed attempt; returns the attempts so far. */
  async recordFailure(id: string, generation: number, retryAt: Date): Promise<number> {
    const { rows } = await this.pool.query<{ attempts: number }>(
      'UPDATE instances SET attempts = attempts + 1, next_attempt_at = $3 WHERE id = $1 AND generation = $2 RETURNING attempts',
      [id, generation, retryAt],
    )
    return rows[0]?.attempts ?? 0
  }

  /** `waitsForHost`: the host whose return makes it worth trying again by itself (see waitingForHosts). */
  async markFailed(id: string, generation: number, step: string, message: string, waitsForHost: string | null = null): Promise<void> {
    await this.pool.query(
      `UPDATE instances SET phase = 'failed', failure_step = $3, failure_message = $4, failed_generation = $2, waits_for_host = $5, next_attempt_at = NULL, updated_at = now()
       WHERE id = $1 AND generation = $2`,
      [id, generation, step, message, waitsForHost],
    )
  }

  /** Failed instances that wait for a host to answer again, with the generation that failed. */
  async waitingForHosts(): Promise<{ id: string; host: string; generation: number }[]> {
    const { rows } = await this.pool.query<{ id: string; host: string; generation: number }>(
      `SELECT id, waits_for_host AS host, generation FROM instances
       WHERE phase = 'failed' AND waits_for_host IS NOT NULL AND failed_generation = generation AND desired <> 'removed'`,
    )
    return rows
  }

  async clearAttempts(id: string): Promise<void> {
    await this.pool.query('UPDATE instances SET attempts = 0, next_attempt_at = NULL WHERE id = $1 AND attempts > 0', [id])
  }

  async appendEvent(event: Omit<InstanceEvent, 'seq' | 'at'>): Promise<InstanceEvent> {
    const { rows } = await this.pool.query<{ seq: string; at: Date }>(
      'INSERT INTO events (instance_id, step, status, message) VALUES ($1, $2, $3, $4) RETURNING seq, at',
      [event.instanceId, event.step, event.status, event.message],
    )
    const row = rows[0]
    if (!row) throw new Error('event was not stored')
    return { ...event, seq: Number(row.seq), at: row.at.toISOString() }
  }

  /** Steps that failed or were retried in the last `hours`, newest first. */
  async recentFailures(hours: number, limit: number): Promise<{ instanceId: string; step: string; status: 'retrying' | 'failed'; message: string; at: string }[]> {
    const { rows } = await this.pool.query<{ instanceId: string; step: string; status: 'retrying' | 'failed'; message: string; at: Date }>(
      `SELECT instance_id AS "instanceId", step, status, message, at FROM events
       WHERE status IN ('retrying', 'failed') AND at > now() - make_interval(hours => $1) ORDER BY seq DESC LIMIT $2`,
      [hours, limit],
    )
    return rows.map((r) => ({ ...r, message: r.message.slice(0, 500), at: r.at.toISOString() }))
  }

  async events(id: string, after = 0, limit = 500): Promise<InstanceEvent[]> {
    const { rows } = await this.pool.query<{ seq: string; instanceId: string; step: string; status: InstanceEvent['status']; message: string; at: Date }>(
      'SELECT seq, instance_id AS "instanceId", step, status, message, at FROM events WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [id, after, limit],
    )
    return rows.map((r) => ({ ...r, seq: Number(r.seq), at: r.at.toISOString() }))
  }
}

export function toView(row: InstanceRow, url: string): InstanceView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    recipe: row.recipe,
    recipeVersion: row.recipeVersion,
    desired: row.desired,
    phase: row.phase,
    url,
    failure: row.phase === 'failed' && row.failureStep ? { step: row.failureStep, message: row.failureMessage ?? '' } : null,
    purgeAt: row.purgeAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
