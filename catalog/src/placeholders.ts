// The placeholder grammar of recipe templates (env values, hook arguments,
// config files). The provisioner resolves placeholders per instance; the
// catalog only checks that every placeholder is one it will know how to fill.
//
//   ${password:N}          a fresh random secret of N characters (16..256), used once
//   ${secret:NAME}         a named random secret declared in the recipe's `secrets`,
//                          the same value wherever it is used (e.g. a database password
//                          the app and the database container must share)
//   ${instance.url}        https://<public host of the instance>
//   ${instance.host}       the public host name alone
//   ${instance.id}         the instance id (stable, DNS-safe)
//   ${org.id} ${org.name}  the owning organisation
//   ${admin.email}         e-mail of the organisation admin who requested the instance
//   ${route.NAME.url}      https://<host> of an extra public route declared in `routes`
//   ${route.NAME.host}     its host name alone
//   ${oidc.issuer} ${oidc.discoveryUrl} ${oidc.authorizationUrl} ${oidc.tokenUrl}
//   ${oidc.userinfoUrl} ${oidc.endSessionUrl} ${oidc.clientId} ${oidc.clientSecret}
//   ${smtp.host} ${smtp.port} ${smtp.user} ${smtp.password}
//   ${smtp.from}           sender address; ${smtp.fromLocalPart} and ${smtp.fromDomain} its two halves
//   ${route.NAME.url} of a path route (pathPrefixes) is ${instance.url}
//
// A `$` that is not followed by `{` is literal text. `${` always opens a
// placeholder; an unknown one is an error, never passed through.

export const fixedPlaceholders = [
  'instance.url',
  'instance.host',
  'instance.id',
  'org.id',
  'org.name',
  'admin.email',
  'oidc.issuer',
  'oidc.discoveryUrl',
  'oidc.authorizationUrl',
  'oidc.tokenUrl',
  'oidc.userinfoUrl',
  'oidc.endSessionUrl',
  'oidc.clientId',
  'oidc.clientSecret',
  'smtp.host',
  'smtp.port',
  'smtp.user',
  'smtp.password',
  'smtp.from',
  'smtp.fromLocalPart',
  'smtp.fromDomain',
] as const

export type FixedPlaceholder = (typeof fixedPlaceholders)[number]

export type Placeholder =
  | { kind: 'password'; length: number; raw: string }
  | { kind: 'secret'; name: string; raw: string }
  | { kind: 'route'; route: string; part: 'url' | 'host'; raw: string }
  | { kind: 'fixed'; name: FixedPlaceholder; raw: string }

/** Placeholders whose value is a credential: the only things allowed where a secret goes. */
export function isSecretPlaceholder(p: Placeholder): boolean {
  return (
    p.kind === 'password' ||
    p.kind === 'secret' ||
    (p.kind === 'fixed' && (p.name === 'oidc.clientSecret' || p.name === 'smtp.password'))
  )
}

export const secretNamePattern = /^[A-Z][A-Z0-9_]*$/
export const routeNamePattern = /^[a-z][a-z0-9-]*$/

const fixedSet = new Set<string>(fixedPlaceholders)

export type ParseResult = { placeholders: Placeholder[]; errors: string[] }

/** Finds every `${…}` in a template and says which ones are not in the grammar. */
export function parsePlaceholders(text: string): ParseResult {
  const placeholders: Placeholder[] = []
  const errors: string[] = []
  let from = 0
  for (;;) {
    const start = text.indexOf('${', from)
    if (start === -1) break
    const end = text.indexOf('}', start + 2)
    if (end === -1) {
      errors.push(`unclosed placeholder at "${text.slice(start, start + 30)}"`)
      break
    }
    const raw = text.slice(start, end + 1)
    const body = raw.slice(2, -1)
    const parsed = parseBody(body, raw)
    if (typeof parsed === 'string') errors.push(parsed)
    else placeholders.push(parsed)
    from = end + 1
  }
  return { placeholders, errors }
}

function parseBody(body: string, raw: string): Placeholder | string {
  if (fixedSet.has(body)) return { kind: 'fixed', name: body as FixedPlaceholder, raw }
  const password = /^password:(\d+)$/.exec(body)
  if (password) {
    const length = Number(password[1])
    if (length < 16 || length > 256) return `${raw}: password length must be between 16 and 256`
    return { kind: 'password', length, raw }
  }
  const secret = /^secret:(.+)$/.exec(body)
  if (secret) {
    const name = secret[1] ?? ''
    if (!secretNamePattern.test(name)) return `${raw}: secret name must match ${secretNamePattern}`
    return { kind: 'secret', name, raw }
  }
  const route = /^route\.([^.]+)\.(url|host)$/.exec(body)
  if (route) {
    const name = route[1] ?? ''
    if (!routeNamePattern.test(name)) return `${raw}: route name must match ${routeNamePattern}`
    return { kind: 'route', route: name, part: route[2] as 'url' | 'host', raw }
  }
  return `unknown placeholder ${raw}`
}
