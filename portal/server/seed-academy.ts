/**
 * `npm run academy:seed -w portal`: brings the starter courses into the
 * database without starting the portal (server/index.ts does the same at
 * every start unless ACADEMY_SEED=false). Opens the database as the server
 * does: DATABASE_URL, or the embedded PostgreSQL in `.data/postgres`.
 */
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { CourseError } from '@commons/academy'
import { seedStarterCourses, type SeedLog } from '../app/utils/academy/seed.server.ts'

const portalDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Seeds `dir` and logs one line with the counts; for a broken starter course, prints its problems and answers null. */
export async function seedAndReport(dir: string, log: SeedLog) {
  try {
    const results = await seedStarterCourses(dir, log)
    const counts: Record<string, number> = {}
    for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1
    log.info({ dir, courses: results.length, ...counts }, 'starter courses seeded')
    return results
  } catch (error) {
    if (!(error instanceof CourseError)) throw error
    console.error(error.message)
    return null
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { academySeedSchema } = await import('../app/utils/env.server.ts')
  const settings = academySeedSchema.safeParse(process.env)
  if (!settings.success) {
    console.error(`Invalid environment:\n${settings.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`)
    process.exit(1)
  }
  const { logger } = await import('../app/utils/logger.server.ts')
  const { openDatabase } = await import('./database.ts')
  const { applyMigrations } = await import('./migrate.ts')
  const { disconnectDb } = await import('../app/utils/db.server.ts')
  const database = await openDatabase((line) => logger.debug({ component: 'postgres' }, line))
  process.env.DATABASE_URL = database.url
  let exitCode = 0
  try {
    await applyMigrations(database.url)
    const results = await seedAndReport(settings.data.ACADEMY_COURSES_DIR ?? path.join(portalDir, '..', 'academy', 'courses'), logger)
    if (!results) exitCode = 1
  } catch (error) {
    logger.error({ err: error }, 'seeding the starter courses failed')
    exitCode = 1
  } finally {
    await disconnectDb()
    await database.close()
  }
  process.exit(exitCode)
}
