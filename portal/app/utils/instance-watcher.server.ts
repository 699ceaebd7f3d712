import type { Instance } from '~/generated/prisma/client'
import { alertBackupProblems } from './backup-alerts.server'
import { db } from './db.server'
import { env } from './env.server'
import { deliverDesiredState, desiredForProvisioner, recordObservation, recordSyncFailure, trackedInstances } from './instances.server'
import { logger } from './logger.server'
import { provisioner, ProvisionerUnavailable, type InstanceView, type ProvisionerClient } from './provisioner.server'
import { followUpAnnouncedUpgrades } from './upgrade-ends.server'

/**
 * Keeps the portal's instance records in step with the provisioner: every
 * few seconds it asks for the instances of each organisation that has live
 * ones, stores the phase (the ready, failed and upgrade mails go with the
 * change, see recordObservation), and re-sends the desired state wherever the
 * provisioner does not have it yet — an approval made while the provisioner
 * was down, a pause it never heard of. So a PUT is retried until accepted.
 * Last, it follows up the upgrades whose end no phase showed, and about once
 * a minute it mails the operators the backup problems that are new.
 */
/** How often the backup problems are looked at (they change on the scale of the backup schedule). */
const BACKUP_ALERT_EVERY_MS = 60_000

export class InstanceWatcher {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private unavailableLogged = false
  private backupsLookedAt = 0

  constructor(private readonly client: () => ProvisionerClient = provisioner) {}

  start(intervalMs = env().PROVISIONER_POLL_MS) {
    this.timer = setInterval(() => this.kick(), intervalMs)
    this.kick()
  }

  async stop() {
    clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  private kick() {
    if (this.running) return
    this.running = this.pass()
      .catch((error: unknown) => logger.error({ err: error }, 'instance watch pass failed'))
      .finally(() => {
        this.running = undefined
      })
  }

  /** One round over every instance the provisioner may still have to act on. */
  async pass() {
    const tracked = await db().instance.findMany({ where: trackedInstances, orderBy: { createdAt: 'asc' } })
    const byOrganization = new Map<string, Instance[]>()
    for (const i of tracked) byOrganization.set(i.organizationId, [...(byOrganization.get(i.organizationId) ?? []), i])
    for (const [organizationId, instances] of byOrganization) {
      let views: InstanceView[]
      try {
        views = await this.client().listInstances(organizationId)
      } catch (error) {
        await recordSyncFailure(tracked.map((i) => i.id), error)
        if (error instanceof ProvisionerUnavailable) {
          if (!this.unavailableLogged) logger.warn({ err: error }, 'the provisioner is not reachable; instances wait')
          this.unavailableLogged = true
          return
        }
        continue
      }
      if (this.unavailableLogged) logger.info('the provisioner is reachable again')
      this.unavailableLogged = false
      const known = new Map(views.map((v) => [v.id, v]))
      for (const instance of instances) {
        if ((await this.reconcile(instance, known.get(instance.id))) === 'unavailable') return
      }
    }
    await followUpAnnouncedUpgrades(this.client())
    if (Date.now() - this.backupsLookedAt >= BACKUP_ALERT_EVERY_MS) {
      this.backupsLookedAt = Date.now()
      const { raised } = await alertBackupProblems(this.client())
      if (raised.length > 0) logger.warn({ problems: raised }, 'backup problems mailed to the operators')
    }
  }

  private async reconcile(instance: Instance, view: InstanceView | undefined) {
    const wanted = desiredForProvisioner(instance)
    if (view && view.desired === wanted) {
      await recordObservation(instance.id, view, this.client())
      return 'delivered'
    }
    // Unknown to the provisioner, or it wants something else than we asked: say it (again).
    return (await deliverDesiredState(instance.id, this.client())).outcome
  }
}

export const instanceWatcher = new InstanceWatcher()
