import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import type { BackupKind, BackupView, RestoreView } from '../api/contract.ts'

export type BackupRow = {
  id: string
  instanceId: string
  organizationId: string
  recipe: string
  recipeVersion: string
  kind: BackupKind
  status: 'running' | 'succeeded' | 'failed'
  snapshotId: string | null
  volumes: string[]
  dumps: string[]
  sizeBytes: string | null
  fileCount: number | null
  error: string | null
  errorDetail: string | null
  verification: 'pending' | 'passed' | 'failed' | 'skipped'
  verificationMessage: string | null
  verifiedAt: Date | null
  requestedBy: string | null
  startedAt: Date
  finishedAt: Date | null
  forgottenAt: Date | null
}

export type RestoreRow = {
  id: string
  instanceId: string
  backupId: string
  safetyBackupId: string | null
  status: 'running' | 'succeeded' | 'failed' | 'rolled-back'
  error: string | null
  errorDetail: string | null
  requestedBy: string | null
  startedAt: Date
  finishedAt: Date | null
}

const backupColumns = `id, instance_id AS "instanceId", organization_id AS "organizationId", recipe, recipe_version AS "recipeVersion", kind, status,
  snapshot_id AS "snapshotId", volumes, dumps, size_bytes AS "sizeBytes", file_count AS "fileCount", error, error_detail AS "errorDetail",
  verification, verification_message AS "verificationMessage", verified_at AS "verifiedAt", requested_by AS "requestedBy",
  started_at AS "startedAt", finished_at AS "finishedAt", forgotten_at AS "forgottenAt"`

const restoreColumns = `id, instance_id AS "instanceId", backup_id AS "backupId", safety_backup_id AS "safetyBackupId", status, error,
  error_detail AS "errorDetail", requested_by AS "requestedBy", started_at AS "startedAt", finished_at AS "finishedAt"`

/** `b-` or `r-` and 20 random hex digits: unguessable, DNS- and path-safe. */
function newId(prefix: 'b' | 'r'): string {
  return `${prefix}-${randomBytes(16).toString('hex').slice(0, 20)}`
}

export class BackupStore {
  constructor(readonly pool: pg.Pool) {}

  async start(backup: { instanceId: string; organizationId: string; recipe: string; recipeVersion: string; kind: BackupKind; volumes: string[]; dumps: string[]; requestedBy?: string }): Promise<BackupRow> {
    const { rows } = await this.pool.query<BackupRow>(
      `INSERT INTO backups (id, instance_id, organization_id, recipe, recipe_version, kind, volumes, dumps, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${backupColumns}`,
      [newId('b'), backup.instanceId, backup.organizationId, backup.recipe, backup.recipeVersion, backup.kind, backup.volumes, backup.dumps, backup.requestedBy ?? null],
    )
    return rows[0]!
  }

  async succeeded(id: string, result: { snapshotId: string; sizeBytes: number; fileCount: number }): Promise<void> {
    await this.pool.query(`UPDATE backups SET status = 'succeeded', snapshot_id = $2, size_bytes = $3, file_count = $4, finished_at = now() WHERE id = $1`, [
      id,
      result.snapshotId,
      result.sizeBytes,
      result.fileCount,
    ])
  }

  async failed(id: string, error: string, detail: string): Promise<void> {
    await this.pool.query(`UPDATE backups SET status = 'failed', error = $2, error_detail = $3, verification = 'skipped', finished_at = now() WHERE id = $1`, [id, error, detail])
  }

  async verified(id: string, passed: boolean, message: string): Promise<void> {
    await this.pool.query(`UPDATE backups SET verification = $2, verification_message = $3, verified_at = now() WHERE id = $1`, [id, passed ? 'passed' : 'failed', message])
  }

  async skipped(id: string, message: string): Promise<void> {
    await this.pool.query(`UPDATE backups SET verification = 'skipped', verification_message = $2, verified_at = now() WHERE id = $1`, [id, message])
  }

  async forgotten(ids: string[]): Promise<void> {
    if (ids.length === 0) return
    await this.pool.query(`UPDATE backups SET forgotten_at = now() WHERE id = ANY($1) AND forgotten_at IS NULL`, [ids])
  }

  async get(id: string): Promise<BackupRow | undefined> {
    const { rows } = await this.pool.query<BackupRow>(`SELECT ${backupColumns} FROM backups WHERE id = $1`, [id])
    return rows[0]
  }

  async forInstance(instanceId: string, limit = 100): Promise<BackupRow[]> {
    const { rows } = await this.pool.query<BackupRow>(`SELECT ${backupColumns} FROM backups WHERE instance_id = $1 ORDER BY started_at DESC LIMIT $2`, [instanceId, limit])
    return rows
  }

  async forOrganization(organizationId: string, limit = 500): Promise<BackupRow[]> {
    const { rows } = await this.pool.query<BackupRow>(`SELECT ${backupColumns} FROM backups WHERE organization_id = $1 ORDER BY started_at DESC LIMIT $2`, [
      organizationId,
      limit,
    ])
    return rows
  }

  /** Snapshots still kept, of one instance (for the retention policy) or of all. */
  async kept(instanceId?: string): Promise<BackupRow[]> {
    const { rows } = instanceId
      ? await this.pool.query<BackupRow>(`SELECT ${backupColumns} FROM backups WHERE instance_id = $1 AND snapshot_id IS NOT NULL AND forgotten_at IS NULL`, [instanceId])
      : await this.pool.query<BackupRow>(`SELECT ${backupColumns} FROM backups WHERE snapshot_id IS NOT NULL AND forgotten_at IS NULL`)
    return rows
  }

  /** The newest backup of each instance, whatever became of it. */
  async lastAttempt(): Promise<Map<string, Date>> {
    const { rows } = await this.pool.query<{ instanceId: string; at: Date }>(`SELECT instance_id AS "instanceId", max(started_at) AS at FROM backups GROUP BY instance_id`)
    return new Map(rows.map((r) => [r.instanceId, r.at]))
  }

  async runningRestores(): Promise<RestoreRow[]> {
    return (await this.pool.query<RestoreRow>(`SELECT ${restoreColumns} FROM restores WHERE status = 'running'`)).rows
  }

  /** The newest successful backup of each instance. */
  async lastGood(): Promise<Map<string, Date>> {
    const { rows } = await this.pool.query<{ instanceId: string; at: Date }>(
      `SELECT instance_id AS "instanceId", max(started_at) AS at FROM backups WHERE status = 'succeeded' GROUP BY instance_id`,
    )
    return new Map(rows.map((r) => [r.instanceId, r.at]))
  }

  async problems(limit = 50): Promise<{ failedBackups: BackupRow[]; failedVerifications: BackupRow[] }> {
    // The last of each instance counts: a failure followed by a good backup is over.
    const latest = `SELECT DISTINCT ON (instance_id) ${backupColumns} FROM backups WHERE status <> 'running' ORDER BY instance_id, started_at DESC`
    const failedBackups = (await this.pool.query<BackupRow>(`SELECT * FROM (${latest}) b WHERE status = 'failed' ORDER BY "startedAt" DESC LIMIT $1`, [limit])).rows
    const failedVerifications = (
      await this.pool.query<BackupRow>(`SELECT ${backupColumns} FROM backups WHERE verification = 'failed' AND forgotten_at IS NULL ORDER BY started_at DESC LIMIT $1`, [limit])
    ).rows
    return { failedBackups, failedVerifications }
  }

  /** Whether a backup or a restore of the instance is running. */
  /** The backup of the instance being made now, if any. */
  async runningBackupOf(instanceId: string): Promise<BackupRow | undefined> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM backups WHERE instance_id = $1 AND status = 'running' ORDER BY started_at DESC LIMIT 1`, [instanceId])
    return rows[0] ? this.get(rows[0].id) : undefined
  }

  async restoreUnderWay(instanceId: string): Promise<boolean> {
    const { rows } = await this.pool.query(`SELECT 1 FROM restores WHERE instance_id = $1 AND status = 'running' LIMIT 1`, [instanceId])
    return rows.length > 0
  }

  async underWay(instanceId: string): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM backups WHERE instance_id = $1 AND status = 'running' UNION ALL SELECT 1 FROM restores WHERE instance_id = $1 AND status = 'running' LIMIT 1`,
      [instanceId],
    )
    return rows.length > 0
  }

  /** After a restart: what was running when the process stopped did not finish. */
  async interrupted(): Promise<number> {
    const plain = 'The provisioner stopped while this was running.'
    const b = await this.pool.query(`UPDATE backups SET status = 'failed', error = $1, error_detail = 'interrupted', verification = 'skipped', finished_at = now() WHERE status = 'running'`, [plain])
    const v = await this.pool.query(`UPDATE backups SET verification = 'skipped', verification_message = $1 WHERE status = 'succeeded' AND verification = 'pending'`, [
      'The check was interrupted by a restart of the provisioner.',
    ])
    const r = await this.pool.query(`UPDATE restores SET status = 'failed', error = $1, error_detail = 'interrupted', finished_at = now() WHERE status = 'running'`, [plain])
    return (b.rowCount ?? 0) + (v.rowCount ?? 0) + (r.rowCount ?? 0)
  }

  async startRestore(restore: { instanceId: string; backupId: string; requestedBy?: string }): Promise<RestoreRow> {
    const { rows } = await this.pool.query<RestoreRow>(
      `INSERT INTO restores (id, instance_id, backup_id, requested_by) VALUES ($1, $2, $3, $4) RETURNING ${restoreColumns}`,
      [newId('r'), restore.instanceId, restore.backupId, restore.requestedBy ?? null],
    )
    return rows[0]!
  }

  async setSafetyBackup(restoreId: string, backupId: string): Promise<void> {
    await this.pool.query(`UPDATE restores SET safety_backup_id = $2 WHERE id = $1`, [restoreId, backupId])
  }

  async finishRestore(id: string, status: RestoreRow['status'], error?: { plain: string; detail: string }): Promise<void> {
    await this.pool.query(`UPDATE restores SET status = $2, error = $3, error_detail = $4, finished_at = now() WHERE id = $1`, [
      id,
      status,
      error?.plain ?? null,
      error?.detail ?? null,
    ])
  }

  async getRestore(id: string): Promise<RestoreRow | undefined> {
    const { rows } = await this.pool.query<RestoreRow>(`SELECT ${restoreColumns} FROM restores WHERE id = $1`, [id])
    return rows[0]
  }

  async restoresFor(instanceId: string, limit = 50): Promise<RestoreRow[]> {
    const { rows } = await this.pool.query<RestoreRow>(`SELECT ${restoreColumns} FROM restores WHERE instance_id = $1 ORDER BY started_at DESC LIMIT $2`, [instanceId, limit])
    return rows
  }
}

export function isRestorable(row: BackupRow): boolean {
  return row.status === 'succeeded' && row.snapshotId !== null && row.forgottenAt === null && row.verification !== 'failed'
}

export function backupView(row: BackupRow): BackupView {
  return {
    id: row.id,
    instanceId: row.instanceId,
    organizationId: row.organizationId,
    recipe: row.recipe,
    recipeVersion: row.recipeVersion,
    kind: row.kind,
    status: row.status,
    error: row.error,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    fileCount: row.fileCount,
    volumes: row.volumes,
    dumps: row.dumps,
    verification: { status: row.verification, message: row.verificationMessage, at: row.verifiedAt?.toISOString() ?? null },
    restorable: isRestorable(row),
    forgottenAt: row.forgottenAt?.toISOString() ?? null,
    requestedBy: row.requestedBy,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  }
}

export function restoreView(row: RestoreRow): RestoreView {
  return {
    id: row.id,
    instanceId: row.instanceId,
    backupId: row.backupId,
    safetyBackupId: row.safetyBackupId,
    status: row.status,
    error: row.error,
    requestedBy: row.requestedBy,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  }
}
