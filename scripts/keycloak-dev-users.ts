import fsp from 'node:fs/promises'
import { z } from 'zod'
import { DEV_USERS_FILE, REALM } from './keycloak.ts'

// The demo people of keycloak/dev-users.json: for dev and tests only, never production.

const devUsersSchema = z.object({
  users: z.array(
    z.object({
      email: z.email(),
      firstName: z.string().min(1),
      lastName: z.string().min(1),
      password: z.string().min(1),
      realmRoles: z.array(z.string()),
    }),
  ),
})

export interface AdminCredentials {
  username: string
  password: string
}

async function masterAdminToken(url: string, creds: AdminCredentials): Promise<string> {
  const response = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: creds.username,
      password: creds.password,
    }),
  })
  if (!response.ok) throw new Error(`master admin login failed: ${response.status} ${await response.text()}`)
  const body = (await response.json()) as { access_token: string }
  return body.access_token
}

/**
 * Creates (or brings up to date) the demo users of `file` in the realm
 * "commons" through the admin REST API, as the master admin. Dev and tests only.
 * Returns the Keycloak user id per e-mail address.
 */
export async function importDevUsers(
  url: string,
  adminCreds: AdminCredentials,
  file = DEV_USERS_FILE,
): Promise<Map<string, string>> {
  const { users } = devUsersSchema.parse(JSON.parse(await fsp.readFile(file, 'utf8')))
  const token = await masterAdminToken(url, adminCreds)
  const admin = `${url}/admin/realms/${REALM}`
  const call = async (method: string, resource: string, body?: unknown): Promise<Response> => {
    const response = await fetch(`${admin}${resource}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!response.ok && response.status !== 409) {
      throw new Error(`${method} ${resource}: ${response.status} ${await response.text()}`)
    }
    return response
  }
  const findId = async (email: string): Promise<string | undefined> => {
    const found = (await (await call('GET', `/users?exact=true&email=${encodeURIComponent(email)}`)).json()) as {
      id: string
    }[]
    return found[0]?.id
  }

  const ids = new Map<string, string>()
  for (const user of users) {
    const profile = {
      username: user.email,
      email: user.email,
      firstName: user.firstName,
      lastName: user.lastName,
      enabled: true,
      emailVerified: true,
      requiredActions: [],
    }
    let id = await findId(user.email)
    if (id) {
      await call('PUT', `/users/${id}`, profile)
    } else {
      await call('POST', '/users', profile)
      id = await findId(user.email)
      if (!id) throw new Error(`user ${user.email} was not created`)
    }
    await call('PUT', `/users/${id}/reset-password`, { type: 'password', value: user.password, temporary: false })
    if (user.realmRoles.length > 0) {
      const roles = await Promise.all(
        user.realmRoles.map(async (name) => (await call('GET', `/roles/${encodeURIComponent(name)}`)).json()),
      )
      await call('POST', `/users/${id}/role-mappings/realm`, roles)
    }
    ids.set(user.email, id)
  }
  return ids
}
