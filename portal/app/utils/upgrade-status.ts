import type { UpgradeStatus } from '@commons/provisioner/contract'

/** Whether an upgrade is over (one way or another), or still queued or running; shared by the server and the pages. */
export function isFinished(status: UpgradeStatus) {
  return status === 'succeeded' || status === 'rolled-back' || status === 'failed'
}
