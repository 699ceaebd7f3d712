import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface LocalSecrets {
  portal: string
  portalAdmin: string
  provisioner: string
  keycloakAdminPassword: string
}

/** Random secrets for a local Keycloak and portal, made once and kept in a git-ignored file. */
export function localSecrets(file: string): LocalSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets
  const make = () => randomBytes(24).toString('base64url')
  const secrets = { portal: make(), portalAdmin: make(), provisioner: make(), keycloakAdminPassword: make() }
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  return secrets
}
