import { isMessageKey, type Translate } from './i18n'

/**
 * A provisioner step ("container:web", "volume:data", "ready") in the
 * person's words: the kind translated, the target (a name from the recipe)
 * kept as it is. A kind this portal does not know yet is shown as it is.
 */
export function stepLabel(step: string, t: Translate): string {
  const colon = step.indexOf(':')
  const kind = colon === -1 ? step : step.slice(0, colon)
  const target = colon === -1 ? '' : step.slice(colon + 1)
  const key = `step.${kind}`
  const label = isMessageKey(key) ? t(key) : kind
  return target ? `${label} (${target})` : label
}
