import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import type { UpgradeStatus, UpgradeView } from '../api/contract.ts'

export type UpgradeRow = {
  id: string
  instanceId: string
  organizationId: string
  recipe: string
  fromVersion: string
  toVersion: string
  status: UpgradeStatus
  backupId: string | null
  error: string | null
  errorDetail: string | null
  requestedBy: string | null
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

const columns = `id, instance_id AS "instanceId", organization_id AS "organizationId", recipe, from_version AS "fromVersion", to_version AS "toVersion",
  status, backup_id AS "backupId", error, error_detail AS "errorDetail", requested_by AS "requestedBy", created_at AS "createdAt",
  started_at AS "startedAt", finished_at AS "finishedAt"`

export const openStatuses: UpgradeStatus[] = ['queued', 'backing-up', 'upgrading', 'rolling-back']

export class UpgradeStore {
  constructor(readonly pool: pg.Pool) {}

  async queue(u: { instanceId: string; organizationId: string; recipe: string; fromVersion: string; toVersion: string; requestedBy?: string }): Promise<UpgradeRow> {
    const { rows } = await this.pool.query<UpgradeRow>(
      `INSERT INTO upgrades (id, instance_id, organization_id, recipe, from_version, to_version, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${columns}`,
      [`u-${randomBytes(10).toString('hex')}`, u.instanceId, u.organizationId, u.recipe, u.fromVersion, u.toVersion, u.requestedBy ?? null],
    )
    return rows[0]!
  }

  async set(id: string, status: UpgradeStatus, extra: { backupId?: string; error?: { plain: string; detail: string } } = {}): Promise<void> {
    const done = status === 'succeeded' || status === 'rolled-back' || status === 'failed'
    await this.pool.query(
      `UPDATE upgrades SET status = $2, backup_id = COALESCE($3, backup_id), error = COALESCE($4, error), error_detail = COALESCE($5, error_detail),
         started_at = COALESCE(started_at, CASE WHEN $2::text <> 'queued' THEN now() END), finished_at = CASE WHEN $6::boolean THEN now() ELSE finished_at END
       WHERE id = $1`,
      [id, status, extra.backupId ?? null, extra.error?.plain ?? null, extra.error?.detail ?? null, done],
    )
  }

  async get(id: string): Promise<UpgradeRow | undefined> {
    return (await this.pool.query<UpgradeRow>(`SELECT ${columns} FROM upgrades WHERE id = $1`, [id])).rows[0]
  }

  /** Not finished yet, oldest first: the queue. */
  async open(): Promise<UpgradeRow[]> {
    return (await this.pool.query<UpgradeRow>(`SELECT ${columns} FROM upgrades WHERE status = ANY($1) ORDER BY created_at`, [openStatuses])).rows
  }

  async recent(limit = 100): Promise<UpgradeRow[]> {
    return (await this.pool.query<UpgradeRow>(`SELECT ${columns} FROM upgrades ORDER BY created_at DESC LIMIT $1`, [limit])).rows
  }

  async forInstance(instanceId: string, limit = 50): Promise<UpgradeRow[]> {
    return (await this.pool.query<UpgradeRow>(`SELECT ${columns} FROM upgrades WHERE instance_id = $1 ORDER BY created_at DESC LIMIT $2`, [instanceId, limit])).rows
  }

  /** After a restart: an upgrade under way when the process stopped is marked failed (the queued ones wait on). */
  async interrupted(): Promise<UpgradeRow[]> {
    const plain = 'The provisioner stopped during this upgrade. The platform operator must look at the tool.'
    return (
      await this.pool.query<UpgradeRow>(
        `UPDATE upgrades SET status = 'failed', error = $1, error_detail = 'interrupted', finished_at = now()
         WHERE status IN ('backing-up', 'upgrading', 'rolling-back') RETURNING ${columns}`,
        [plain],
      )
    ).rows
  }
}

export function upgradeView(row: UpgradeRow): UpgradeView {
  return {
    id: row.id,
    instanceId: row.instanceId,
    organizationId: row.organizationId,
    recipe: row.recipe,
    fromVersion: row.fromVersion,
    toVersion: row.toVersion,
    status: row.status,
    backupId: row.backupId,
    error: row.error,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  }
}
