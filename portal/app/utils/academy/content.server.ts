import { parseContent, type CourseContent } from '@commons/academy/rules'
import type { CourseVersion, CourseVersionStatus } from '~/generated/prisma/client'
import { db } from '../db.server'
import type { MessageKey } from '../i18n'

// What the learner's side and the trainers' studio share: reading course
// versions from the database, and the one error type of the academy.

/** Slugs that name pages of the academy itself, so no course may take them. */
export const RESERVED_COURSE_SLUGS: ReadonlySet<string> = new Set(['manage', 'images', 'new', 'certificates', 'verify'])

/**
 * A refusal the person can act on: `key` is the message shown, `status` the
 * HTTP status of the answer (409 for a state that does not allow it, 403, 404,
 * 400). Nothing was changed when one is thrown.
 */
export class AcademyError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly status = 409,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(key)
    this.name = 'AcademyError'
  }
}

export type VersionWithContent = CourseVersion & { parsed: CourseContent }

const withContent = (version: CourseVersion): VersionWithContent => ({ ...version, parsed: parseContent(version.content) })

/** The columns copied from the content on every save (see the schema). */
export function contentColumns(content: CourseContent): { content: CourseContent; toolRecipeId: string | null; languages: string[] } {
  return { content, toolRecipeId: content.toolRecipeId, languages: [...content.languages] }
}

/** The published version of a course, or null when it has none (yet). */
export async function publishedVersion(courseId: string): Promise<VersionWithContent | null> {
  const version = await db().courseVersion.findFirst({ where: { courseId, status: 'PUBLISHED' } })
  return version ? withContent(version) : null
}

/** The draft or version in review of a course, or null when nobody is changing it. */
export async function workingCopy(courseId: string): Promise<VersionWithContent | null> {
  const version = await db().courseVersion.findFirst({ where: { courseId, status: { in: ['DRAFT', 'IN_REVIEW'] } } })
  return version ? withContent(version) : null
}

/** A published course by its slug, for members; null when there is none, so the route answers 404. */
export async function publishedCourseBySlug(slug: string) {
  const course = await db().course.findUnique({ where: { slug } })
  if (!course) return null
  const version = await publishedVersion(course.id)
  return version ? { course, version } : null
}

/** Every published course, newest first within the order of their titles is left to the page. */
export async function publishedCourses() {
  const versions = await db().courseVersion.findMany({ where: { status: 'PUBLISHED' }, include: { course: true } })
  return versions.map((v) => ({ course: v.course, version: withContent(v) }))
}

/** The published course that onboards to a catalog tool, if any (the oldest, if several). */
export async function onboardingCourseFor(toolRecipeId: string) {
  const version = await db().courseVersion.findFirst({
    where: { status: 'PUBLISHED', toolRecipeId },
    include: { course: true },
    orderBy: { course: { createdAt: 'asc' } },
  })
  return version ? { course: version.course, version: withContent(version) } : null
}

/** Published prerequisites of every course (slug → slugs), for the cycle check before publishing. */
export async function publishedPrerequisites(): Promise<Map<string, string[]>> {
  const published = await publishedCourses()
  return new Map(published.map(({ course, version }) => [course.slug, version.parsed.prerequisites]))
}

export const EDITABLE_STATUSES: readonly CourseVersionStatus[] = ['DRAFT']
