import { db } from '~/utils/db.server'
import { issuerUrl } from '~/utils/auth.server'

async function check(run: () => Promise<unknown>) {
  const started = Date.now()
  try {
    await run()
    return { ok: true, ms: Date.now() - started }
  } catch (error) {
    return { ok: false, ms: Date.now() - started, error: error instanceof Error ? error.message : String(error) }
  }
}

/** Liveness and readiness: the database answers and Keycloak's realm is reachable. */
export async function loader() {
  const [database, keycloak] = await Promise.all([
    check(() => db().$queryRaw`SELECT 1`),
    check(async () => {
      const res = await fetch(`${issuerUrl()}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(3000) })
      if (!res.ok) throw new Error(`Keycloak answered ${res.status}`)
    }),
  ])
  const ok = database.ok && keycloak.ok
  return Response.json(
    { status: ok ? 'ok' : 'degraded', checks: { database, keycloak } },
    { status: ok ? 200 : 503, headers: { 'Cache-Control': 'no-store' } },
  )
}
