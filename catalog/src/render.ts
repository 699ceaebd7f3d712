import { parsePlaceholders, type FixedPlaceholder } from './placeholders.ts'

/** Everything a placeholder can stand for, for one instance. */
export type RenderValues = {
  fixed: Readonly<Record<FixedPlaceholder, string>>
  /** Extra public routes by name. */
  routes: Readonly<Record<string, { url: string; host: string }>>
  /** Named secrets declared in the recipe's `secrets`. */
  secrets: Readonly<Record<string, string>>
  /**
   * The value of the n-th `${password:N}` of this template (n counts from 0).
   * It must be the same on every render of the same template, so the caller
   * keys it by where the template sits in the recipe and stores it.
   */
  password: (length: number, occurrence: number) => string
}

export class RenderError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`)
    this.name = 'RenderError'
  }
}

/**
 * How a value is written into its template. Config files in JSON or YAML put
 * placeholders inside double-quoted strings, so a value with a quote or a
 * backslash in it (an organisation called `"De Kas"`) must be escaped there.
 */
export type Escape = 'none' | 'json-string'

export function escapeFor(templatePath: string): Escape {
  return /\.(json|ya?ml)$/.test(templatePath) ? 'json-string' : 'none'
}

/** Replaces every placeholder of `text`; an unknown or unfilled one is a RenderError naming `where`. */
export function renderTemplate(text: string, values: RenderValues, where: string, escape: Escape = 'none'): string {
  const { placeholders, errors } = parsePlaceholders(text)
  if (errors.length > 0) throw new RenderError(where, errors.join('; '))
  let out = ''
  let from = 0
  let passwords = 0
  for (const p of placeholders) {
    const at = text.indexOf(p.raw, from)
    out += text.slice(from, at)
    let value: string | undefined
    switch (p.kind) {
      case 'fixed':
        value = values.fixed[p.name]
        break
      case 'secret':
        value = values.secrets[p.name]
        break
      case 'route':
        value = values.routes[p.route]?.[p.part]
        break
      case 'password':
        value = values.password(p.length, passwords++)
        break
    }
    if (value === undefined) throw new RenderError(where, `no value for ${p.raw}`)
    out += escape === 'json-string' ? JSON.stringify(value).slice(1, -1) : value
    from = at + p.raw.length
  }
  return out + text.slice(from)
}
