import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { contentFromFolder, contentProblems, loadCourses, parseContent, type CourseContent, type LoadedCourse } from '@commons/academy'
import { Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'
import { contentColumns, publishedPrerequisites } from './content.server'

// The starter courses shipped in academy/courses become published courses of
// the portal, so a new platform has something to learn on day one. Trainers
// own a course once they touch it: the seed then leaves it alone, and a
// course a trainer wrote under the same slug is never overwritten.

/** Where a run says what it did; the portal's logger fits. */
export type SeedLog = {
  info(details: object, message: string): void
  warn(details: object, message: string): void
}

export type SeedOutcome =
  /** New course, version 1 published. */
  | 'created'
  /** The folder's content was new and nobody had touched the course: a new version published. */
  | 'updated'
  /** The published version already is this folder's content. */
  | 'unchanged'
  /** Trainers changed the course (a draft, or a version they published): their work stays. */
  | 'kept-trainer-changes'
  /** A course written in the portal has the slug: it stays, the starter course is not added. */
  | 'slug-taken'
  /** The folder is older than what the seed put in before (an older portal started again). */
  | 'older-than-seeded'
  /** The content would not pass the publish checks (for example an image the portal cannot serve). */
  | 'not-publishable'

export type SeedResult = { folder: string; slug: string; outcome: SeedOutcome; courseId?: string; versionNumber?: number }

/** The audit action that records which course.yaml version a seeded course version came from. */
export const SEED_AUDIT_ACTION = 'course.seed'

type SeedAuditData = { folder: string; semver: string; versionNumber: number }

/**
 * Loads the starter courses in `dir` (a broken one throws the loader's
 * CourseError, like a broken catalog recipe) and brings each into the
 * database. Safe to run on every start and by several processes at once:
 * what is there already is compared, not written again.
 */
export async function seedStarterCourses(dir: string, log: SeedLog): Promise<SeedResult[]> {
  const loaded = await loadCourses(dir)
  // Prerequisites may name starter courses seeded later in this same run.
  const known = await publishedPrerequisites()
  for (const { course } of loaded) if (!known.has(course.slug)) known.set(course.slug, course.prerequisites)

  const results: SeedResult[] = []
  for (const folder of loaded) {
    const result = await seedOne(folder, known, log)
    results.push(result)
  }
  return results
}

async function seedOne(loaded: LoadedCourse, known: ReadonlyMap<string, readonly string[]>, log: SeedLog): Promise<SeedResult> {
  const folder = folderName(loaded)
  const slug = loaded.course.slug
  const semver = loaded.course.version
  const content = contentFromFolder(loaded)
  const base = { folder, slug }

  const problems = contentProblems(content, slug, known)
  if (problems.length > 0) {
    log.warn({ folder, problems: problems.map((p) => p.code) }, 'starter course not seeded: it would not pass the publish checks')
    return { ...base, outcome: 'not-publishable' }
  }

  const existing =
    (await db().course.findUnique({ where: { seedFolder: folder } })) ?? (await db().course.findUnique({ where: { slug } }))
  if (!existing) return create(loaded, content, log)
  if (existing.seedFolder !== folder) {
    log.warn({ folder, slug, courseId: existing.id }, 'starter course skipped: a course written in the portal has its slug, and stays as it is')
    return { ...base, outcome: 'slug-taken', courseId: existing.id }
  }

  const versions = await db().courseVersion.findMany({ where: { courseId: existing.id }, orderBy: { number: 'desc' } })
  const published = versions.find((v) => v.status === 'PUBLISHED')
  if (published && isDeepStrictEqual(parseContent(published.content), content)) {
    return { ...base, outcome: 'unchanged', courseId: existing.id, versionNumber: published.number }
  }

  const seeded = await lastSeeded(existing.id)
  const newerInFolder = !seeded || compareSemver(semver, seeded.semver) > 0
  // Touched by trainers: a working copy, a version one of them published, or
  // no published version at all (they withdrew it).
  const working = versions.find((v) => v.status === 'DRAFT' || v.status === 'IN_REVIEW')
  if (!published || working || published.publishedById !== null || published.createdById !== null) {
    // Said only when the folder brings a newer starter version than the one seeded: a course
    // trainers edited differs from its folder for good, and that alone is no news.
    if (newerInFolder) {
      log.info(
        { folder, courseId: existing.id, folderVersion: semver, seededVersion: seeded?.semver ?? null, publishedVersion: published?.number ?? null, draft: Boolean(working) },
        'starter course update skipped: trainers changed the course, their version stays',
      )
    }
    return { ...base, outcome: 'kept-trainer-changes', courseId: existing.id, versionNumber: published?.number }
  }
  if (seeded && compareSemver(semver, seeded.semver) < 0) {
    log.warn({ folder, courseId: existing.id, folderVersion: semver, seededVersion: seeded.semver }, 'starter course update skipped: the folder is older than the version seeded before')
    return { ...base, outcome: 'older-than-seeded', courseId: existing.id, versionNumber: published.number }
  }

  const number = (versions[0]?.number ?? 0) + 1
  try {
    await db().$transaction(async (tx) => {
      // Compare-and-set: of two processes seeding at once, one retires and publishes.
      const { count } = await tx.courseVersion.updateMany({ where: { id: published.id, status: 'PUBLISHED' }, data: { status: 'RETIRED' } })
      if (count === 0) throw new SeededMeanwhile()
      await tx.courseVersion.create({
        data: { courseId: existing.id, number, status: 'PUBLISHED', ...contentColumns(content), publishedAt: new Date() },
      })
      await audit(tx, existing.id, { folder, semver, versionNumber: number })
    })
  } catch (error) {
    if (!(error instanceof SeededMeanwhile) && !isUniqueViolation(error)) throw error
    log.info({ folder, courseId: existing.id }, 'starter course already updated by another process')
    return { ...base, outcome: 'unchanged', courseId: existing.id }
  }
  log.info({ folder, courseId: existing.id, from: seeded?.semver ?? null, to: semver, versionNumber: number }, 'starter course updated')
  return { ...base, outcome: 'updated', courseId: existing.id, versionNumber: number }
}

async function create(loaded: LoadedCourse, content: CourseContent, log: SeedLog): Promise<SeedResult> {
  const folder = folderName(loaded)
  const { slug, version: semver } = loaded.course
  try {
    const course = await db().$transaction(async (tx) => {
      const made = await tx.course.create({
        data: {
          slug,
          seedFolder: folder,
          versions: { create: { number: 1, status: 'PUBLISHED', ...contentColumns(content), publishedAt: new Date() } },
        },
      })
      await audit(tx, made.id, { folder, semver, versionNumber: 1 })
      return made
    })
    log.info({ folder, courseId: course.id, semver }, 'starter course added')
    return { folder, slug, outcome: 'created', courseId: course.id, versionNumber: 1 }
  } catch (error) {
    if (!isUniqueViolation(error)) throw error
    // Another process added it, or a trainer took the slug, between our look and our write: decide again.
    const now = await db().course.findUnique({ where: { slug } })
    if (now?.seedFolder === folder) return { folder, slug, outcome: 'unchanged', courseId: now.id }
    log.warn({ folder, slug, courseId: now?.id }, 'starter course skipped: a course written in the portal has its slug, and stays as it is')
    return { folder, slug, outcome: 'slug-taken', courseId: now?.id }
  }
}

async function audit(tx: Prisma.TransactionClient, courseId: string, data: SeedAuditData) {
  await tx.auditEntry.create({ data: { actorId: null, action: SEED_AUDIT_ACTION, targetType: 'course', targetId: courseId, data } })
}

/** The course.yaml version last seeded into a course, from the audit trail. */
async function lastSeeded(courseId: string): Promise<SeedAuditData | null> {
  const entry = await db().auditEntry.findFirst({
    where: { action: SEED_AUDIT_ACTION, targetType: 'course', targetId: courseId },
    orderBy: { createdAt: 'desc' },
  })
  const data = entry?.data
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null
  const { folder, semver, versionNumber } = data as Record<string, unknown>
  return typeof folder === 'string' && typeof semver === 'string' && typeof versionNumber === 'number' ? { folder, semver, versionNumber } : null
}

/** The folder's name; the loader makes it equal to the slug, but the course is found by its folder first. */
const folderName = (loaded: LoadedCourse) => path.basename(loaded.dir)

/** Negative when a < b. Pre-release suffixes count as lower than the release, as in semver. */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2)
    return { parts: core.split('.').map(Number), pre }
  }
  const x = parse(a)
  const y = parse(b)
  for (let i = 0; i < 3; i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0)
    if (d !== 0) return d
  }
  if (x.pre === y.pre) return 0
  if (x.pre === undefined) return 1
  if (y.pre === undefined) return -1
  return x.pre < y.pre ? -1 : 1
}

class SeededMeanwhile extends Error {}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002'
}
