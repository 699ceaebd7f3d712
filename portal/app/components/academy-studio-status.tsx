import type { MessageKey } from '~/utils/i18n'
import { useT } from '~/utils/use-t'

export type VersionStatus = 'DRAFT' | 'IN_REVIEW' | 'PUBLISHED' | 'RETIRED'

const STATUS_KEYS = {
  DRAFT: 'studio.status.DRAFT',
  IN_REVIEW: 'studio.status.IN_REVIEW',
  PUBLISHED: 'studio.status.PUBLISHED',
  RETIRED: 'studio.status.RETIRED',
} as const satisfies Record<VersionStatus, MessageKey>

/** A version's state in words, with its number: "Draft (version 2)". */
export function VersionBadge({ status, number }: { status: VersionStatus; number: number }) {
  const t = useT()
  return <span className={`badge studio-status-${status.toLowerCase()}`}>{t('studio.status.badge', { status: t(STATUS_KEYS[status]), number })}</span>
}
