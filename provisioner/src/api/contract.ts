import { z } from 'zod'

// The provisioner's HTTP API, as zod schemas shared by the provisioner (which
// validates what it receives) and the portal (which validates what it gets
// back). Every request carries `Authorization: Bearer <PROVISIONER_API_TOKEN>`.
//
//   PUT    /instances/:id                 desired state (create or change)   → 202 InstanceView
//   GET    /instances?organization=<id>   the organisation's instances       → 200 { instances: InstanceView[] }
//   GET    /instances/:id                 one instance                       → 200 InstanceView | 404
//   POST   /instances/:id/restart         restart its containers             → 202 InstanceView
//   DELETE /instances/:id                 deprovision (volumes kept for the grace period) → 202 InstanceView
//   GET    /instances/:id/events?after=N  events after sequence N            → 200 { events: InstanceEvent[] }
//   GET    /instances/:id/events/stream   the same as Server-Sent Events (Last-Event-ID honoured)
//   GET    /instances/:id/logs?tail=N     recent log lines per container     → 200 { containers: ContainerLogs[] }
//   GET    /instances/:id/export          tar archive of the instance's volumes (also after removal, during the grace period)
//   GET    /instances/:id/backups         its backups and restores, newest first → 200 BackupList
//   POST   /instances/:id/backups         back up now { requestedBy? }           → 202 BackupView
//   POST   /instances/:id/restore         restore a backup { backupId, requestedBy? } → 202 RestoreView
//                                         (a backup of this instance, or of a removed one of the same tool and organisation)
//   GET    /backups?organization=<id>     the organisation's backups, also of removed instances → 200 { backups: BackupView[] }
//   GET    /backups/problems              failed backups, failed checks, instances without a recent backup → 200 BackupProblems
//   GET    /upgrades                      instances whose recipe has a newer version, and recent upgrades → 200 UpgradeOverview
//   POST   /upgrades                      upgrade these instances { instances: [id…], requestedBy? }, one after another
//                                         → 202 { queued: UpgradeView[], refused: UpgradeRefusal[] }
//   GET    /instances/:id/upgrades        the instance's upgrades, newest first   → 200 { upgrades: UpgradeView[] }
//   GET    /overview                      hosts, instances by phase, failed instances → 200 PlatformOverview
//   GET    /healthz                       whether the control loop is turning (no token needed)
//   GET    /metrics                       Prometheus text format (the API token, or METRICS_TOKEN which opens nothing else)
//
// Errors are `{ error: { code, message } }` with a 4xx/5xx status. Backups:
// 404 not-found (also a backup of another organisation or tool), 409 busy (a
// backup or restore of the instance is under way), 409 not-running (only a
// ready instance), 409 not-restorable (failed, forgotten or failed its check),
// 503 backups-unavailable (BACKUP_PASSWORD not set; /backups/problems then
// answers 200 with configured: false). Progress comes as events with the
// steps "backup", "verify" and "restore" (no target). Upgrades: progress as
// events with the step "upgrade" (started: "from → to", succeeded, retrying
// while rolling back, failed); refusals per instance with the codes
// not-found, not-running, up-to-date, busy, backups-unavailable.


/** Instance ids are chosen by the portal; they name Docker objects, so DNS-safe. */
export const instanceIdPattern = /^[a-z][a-z0-9-]{2,62}$/
export const InstanceId = z.string().regex(instanceIdPattern, 'must be 3-63 lowercase letters, digits and dashes, starting with a letter')

export const OrganizationRef = z.strictObject({
  id: z.string().min(1).max(64),
  /** DNS-safe; becomes part of the public host name. */
  slug: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be a DNS-safe slug'),
  name: z.string().trim().min(1).max(120),
})
export type OrganizationRef = z.infer<typeof OrganizationRef>

export const desiredStates = ['running', 'suspended'] as const
export type DesiredState = (typeof desiredStates)[number]

export const PutInstanceBody = z.strictObject({
  organization: OrganizationRef,
  /** Catalog recipe id, e.g. "nextcloud". */
  recipe: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a recipe id'),
  adminEmail: z.email(),
  state: z.enum(desiredStates).default('running'),
})
export type PutInstanceBody = z.infer<typeof PutInstanceBody>

/**
 * What the instance is doing, in one word for the UI:
 * provisioning (working towards running), ready, failed (retry budget spent),
 * restoring (a backup is being put back), upgrading (moving to another
 * recipe version, or back after a failed upgrade), suspended, removing, removed
 * (containers gone, volumes kept until `purgeAt`),
 * purged (the kept volumes are gone too; only the history remains).
 */
export const phases = ['provisioning', 'ready', 'restoring', 'upgrading', 'failed', 'suspending', 'suspended', 'removing', 'removed', 'purged'] as const
export type Phase = (typeof phases)[number]

export const InstanceView = z.strictObject({
  id: InstanceId,
  organizationId: z.string(),
  recipe: z.string(),
  recipeVersion: z.string(),
  desired: z.enum([...desiredStates, 'removed']),
  phase: z.enum(phases),
  url: z.string(),
  /** Set when phase is failed: the step that gave up and why, in plain words. */
  failure: z.strictObject({ step: z.string(), message: z.string() }).nullable(),
  /** When removed: when the kept volumes are deleted for good. */
  purgeAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
})
export type InstanceView = z.infer<typeof InstanceView>

export const InstanceList = z.strictObject({ instances: z.array(InstanceView) })

/**
 * Steps are named `<kind>` or `<kind>:<target>`, e.g. "network", "volume:data",
 * "container:web", "health:web", "hook:mark-installed", "oidc-client", "route",
 * "ready". The portal translates the kind; the target is a recipe name.
 */
export const stepKinds = [
  'secrets',
  'network',
  'volume',
  'oidc-client',
  'config',
  'container',
  'hook',
  'health',
  'route',
  'ready',
  'restart',
  'stop',
  'suspended',
  'remove-container',
  'remove-route',
  'remove-oidc-client',
  'remove-network',
  'remove-volume',
  'removed',
  'purged',
  'backup',
  'verify',
  'restore',
  'upgrade',
  'retry',
] as const
export type StepKind = (typeof stepKinds)[number]

export const eventStatuses = ['started', 'succeeded', 'retrying', 'failed'] as const

export const InstanceEvent = z.strictObject({
  seq: z.number().int().positive(),
  instanceId: InstanceId,
  step: z.string(),
  status: z.enum(eventStatuses),
  /** Technical detail in English (an error message, a container id); may be empty. */
  message: z.string(),
  at: z.iso.datetime(),
})
export type InstanceEvent = z.infer<typeof InstanceEvent>

export const EventList = z.strictObject({ events: z.array(InstanceEvent) })

export const ContainerLogs = z.strictObject({ service: z.string(), container: z.string(), lines: z.array(z.string()) })
export const LogsView = z.strictObject({ containers: z.array(ContainerLogs) })

export const ApiError = z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) })

/** Error codes a caller can act on. */
export const errorCodes = [
  'unauthorized',
  'not-found',
  'invalid-body',
  'unknown-recipe',
  'recipe-not-hostable',
  'organization-mismatch',
  'removed',
  'export-unavailable',
  'host-taken',
  'busy',
  'not-running',
  'backups-unavailable',
  'not-restorable',
  'up-to-date',
] as const
export type ErrorCode = (typeof errorCodes)[number]

export const backupKinds = ['scheduled', 'manual', 'pre-restore', 'pre-upgrade'] as const
export type BackupKind = (typeof backupKinds)[number]
export const verificationStatuses = ['pending', 'passed', 'failed', 'skipped'] as const

/**
 * One backup: a restic snapshot of the recipe's backup volumes and dumps,
 * encrypted in the backup repository. `verification` says whether it was
 * restored into a scratch place and every file matched its checksum (and each
 * dump passed the recipe's check).
 */
export const BackupView = z.strictObject({
  id: z.string(),
  instanceId: InstanceId,
  organizationId: z.string(),
  recipe: z.string(),
  recipeVersion: z.string(),
  kind: z.enum(backupKinds),
  status: z.enum(['running', 'succeeded', 'failed']),
  /** In plain words, when failed. */
  error: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  fileCount: z.number().nullable(),
  volumes: z.array(z.string()),
  dumps: z.array(z.string()),
  verification: z.strictObject({ status: z.enum(verificationStatuses), message: z.string().nullable(), at: z.iso.datetime().nullable() }),
  /**
   * Succeeded, still kept, and did not fail its check (passed, not checked
   * yet, or skipped): it can be restored. A restore checks it again first.
   */
  restorable: z.boolean(),
  /** Forgotten by the retention policy, or with its instance's data. */
  forgottenAt: z.iso.datetime().nullable(),
  requestedBy: z.string().nullable(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
})
export type BackupView = z.infer<typeof BackupView>

export const RestoreView = z.strictObject({
  id: z.string(),
  instanceId: InstanceId,
  backupId: z.string(),
  /** The backup of the state before, taken first. */
  safetyBackupId: z.string().nullable(),
  /** rolled-back: putting the backup back failed, and the state before was put back. */
  status: z.enum(['running', 'succeeded', 'failed', 'rolled-back']),
  error: z.string().nullable(),
  requestedBy: z.string().nullable(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
})
export type RestoreView = z.infer<typeof RestoreView>

export const BackupList = z.strictObject({ backups: z.array(BackupView), restores: z.array(RestoreView) })
export const OrganizationBackups = z.strictObject({ backups: z.array(BackupView) })

export const RequestedBy = z.string().trim().min(1).max(200).optional()
export const PostBackupBody = z.strictObject({ requestedBy: RequestedBy })
export const BackupId = z.string().regex(/^b-[a-z0-9]{10,40}$/, 'must be a backup id')
export const PostRestoreBody = z.strictObject({ backupId: BackupId, requestedBy: RequestedBy })

/** What an operator must look at: the health page's backup part. */
export const BackupProblems = z.strictObject({
  /** Whether backups are set up at all (a repository and a password). */
  configured: z.boolean(),
  /** The repository could not be opened or written, in plain words; null when it works. */
  repositoryError: z.string().nullable(),
  failedBackups: z.array(BackupView),
  failedVerifications: z.array(BackupView),
  /** Running instances whose last good backup is older than twice the schedule (or that have none). */
  overdue: z.array(z.strictObject({ instanceId: InstanceId, organizationId: z.string(), recipe: z.string(), lastBackupAt: z.iso.datetime().nullable() })),
})
export type BackupProblems = z.infer<typeof BackupProblems>

export const upgradeStatuses = ['queued', 'backing-up', 'upgrading', 'rolling-back', 'succeeded', 'rolled-back', 'failed'] as const
export type UpgradeStatus = (typeof upgradeStatuses)[number]

/**
 * One upgrade of one instance to its recipe's version in the catalog: a
 * checked backup first, then the new version (new images, config, hooks)
 * until healthy; if it does not become healthy, the old version and the data
 * of that backup are put back (rolled-back). failed: even that did not work;
 * the instance is failed and the backup is kept.
 */
export const UpgradeView = z.strictObject({
  id: z.string(),
  instanceId: InstanceId,
  organizationId: z.string(),
  recipe: z.string(),
  fromVersion: z.string(),
  toVersion: z.string(),
  status: z.enum(upgradeStatuses),
  /** The backup taken first. */
  backupId: z.string().nullable(),
  /** In plain words, when rolled back or failed. */
  error: z.string().nullable(),
  requestedBy: z.string().nullable(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
})
export type UpgradeView = z.infer<typeof UpgradeView>

export const AvailableUpgrade = z.strictObject({
  instanceId: InstanceId,
  organizationId: z.string(),
  recipe: z.string(),
  fromVersion: z.string(),
  toVersion: z.string(),
  /** Ready now; otherwise it is listed but an upgrade is refused (not-running). */
  ready: z.boolean(),
})
export type AvailableUpgrade = z.infer<typeof AvailableUpgrade>

export const UpgradeOverview = z.strictObject({ available: z.array(AvailableUpgrade), upgrades: z.array(UpgradeView) })
export const InstanceUpgrades = z.strictObject({ upgrades: z.array(UpgradeView) })
export const PostUpgradesBody = z.strictObject({ instances: z.array(InstanceId).min(1, 'name at least one instance').max(500), requestedBy: RequestedBy })
export const UpgradeRefusal = z.strictObject({ instanceId: z.string(), code: z.enum(errorCodes), message: z.string() })
export const UpgradesStarted = z.strictObject({ queued: z.array(UpgradeView), refused: z.array(UpgradeRefusal) })

/** What the operators' health page shows of the platform besides backups. */
export const PlatformOverview = z.strictObject({
  hosts: z.array(
    z.strictObject({
      name: z.string(),
      /** Answering now; when not, `error` says why. */
      reachable: z.boolean(),
      error: z.string().nullable(),
      engineVersion: z.string(),
      operatingSystem: z.string(),
      cpus: z.number(),
      memoryBytes: z.number(),
      containersRunning: z.number(),
      containersStopped: z.number(),
      swarm: z.string(),
    }),
  ),
  /** Instances by phase (purged ones left out). */
  phases: z.record(z.string(), z.number()),
  /** Failed instances: the step that gave up and why. */
  failed: z.array(
    z.strictObject({ instanceId: InstanceId, organizationId: z.string(), recipe: z.string(), step: z.string(), message: z.string(), since: z.iso.datetime() }),
  ),
  /** Steps that failed or are being retried in the last 24 hours, newest first (at most 50). */
  recentFailures: z.array(z.strictObject({ instanceId: InstanceId, step: z.string(), status: z.enum(['retrying', 'failed']), message: z.string(), at: z.iso.datetime() })),
  /** When the control loop last went over every instance. */
  lastSweepAt: z.iso.datetime().nullable(),
})
export type PlatformOverview = z.infer<typeof PlatformOverview>
