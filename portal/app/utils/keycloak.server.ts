import { env } from './env.server'
import { KeycloakAdmin } from './keycloak-admin.server'

let admin: KeycloakAdmin | undefined

/** The portal's admin client: its service account may only manage organizations and read users. */
export function keycloakAdmin(): KeycloakAdmin {
  admin ??= new KeycloakAdmin({
    baseUrl: env().KEYCLOAK_URL,
    realm: env().KEYCLOAK_REALM,
    clientId: env().KEYCLOAK_ADMIN_CLIENT_ID,
    clientSecret: env().KEYCLOAK_ADMIN_CLIENT_SECRET,
  })
  return admin
}
