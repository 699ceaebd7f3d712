import { courseProgress, parseContent, type CourseContent, type Language, type Texts } from '@commons/academy/rules'
import type { Course, Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'

// When an organisation's tool is ready, its members are offered the tool's
// onboarding course: in the ready mail, on the dashboard, on the tool's
// catalog page. A member who completed the course is not offered it again.

type Client = Prisma.TransactionClient

export type OnboardingCourse = { course: Course; version: { number: number; parsed: CourseContent } }

/**
 * The published onboarding course of each tool, by recipe id; the oldest
 * course when several onboard to the same tool (as onboardingCourseFor).
 */
export async function onboardingCoursesFor(recipeIds: readonly string[], client: Client = db()): Promise<Map<string, OnboardingCourse>> {
  if (recipeIds.length === 0) return new Map()
  const versions = await client.courseVersion.findMany({
    where: { status: 'PUBLISHED', toolRecipeId: { in: [...new Set(recipeIds)] } },
    include: { course: true },
    orderBy: [{ course: { createdAt: 'asc' } }, { course: { slug: 'asc' } }],
  })
  const byTool = new Map<string, OnboardingCourse>()
  for (const v of versions) {
    if (v.toolRecipeId && !byTool.has(v.toolRecipeId)) byTool.set(v.toolRecipeId, { course: v.course, version: { number: v.number, parsed: parseContent(v.content) } })
  }
  return byTool
}

/** Of `userIds`, those who completed the course: they are not offered it. */
export async function completedBy(courseId: string, userIds: readonly string[], client: Client = db()): Promise<Set<string>> {
  if (userIds.length === 0) return new Set()
  const done = await client.enrolment.findMany({
    where: { courseId, userId: { in: [...userIds] }, completedAt: { not: null } },
    select: { userId: true },
  })
  return new Set(done.map((e) => e.userId))
}

export type OnboardingOffer = {
  organisation: { slug: string; name: string }
  instanceId: string
  recipeId: string
  course: { slug: string; title: Texts; languages: Language[] }
  /** Whole percent of the lessons done; null when the person has not enrolled. */
  percent: number | null
}

/**
 * For each ready tool of the person's organisations whose tool has a
 * published onboarding course they have not completed: the offer, with
 * their progress when they enrolled already. Ordered by organisation, then tool.
 */
export async function onboardingOffers(userId: string, client: Client = db()): Promise<OnboardingOffer[]> {
  const instances = await client.instance.findMany({
    where: { phase: 'ready', removedAt: null, desiredState: { not: 'REMOVED' }, organization: { memberships: { some: { userId } } } },
    select: { id: true, recipeId: true, organization: { select: { slug: true, name: true } } },
    orderBy: [{ organization: { name: 'asc' } }, { recipeId: 'asc' }, { createdAt: 'asc' }],
  })
  const courses = await onboardingCoursesFor(
    instances.map((i) => i.recipeId),
    client,
  )
  if (courses.size === 0) return []
  const enrolments = await client.enrolment.findMany({
    where: { userId, courseId: { in: [...courses.values()].map((c) => c.course.id) } },
    select: { courseId: true, completedAt: true, lessons: { where: { completedAt: { not: null } }, select: { lessonId: true } } },
  })
  const enrolmentOf = new Map(enrolments.map((e) => [e.courseId, e]))
  const offers: OnboardingOffer[] = []
  const seen = new Set<string>()
  for (const instance of instances) {
    const offered = courses.get(instance.recipeId)
    if (!offered) continue
    // One offer per organisation and tool, even if it runs twice.
    const key = `${instance.organization.slug} ${instance.recipeId}`
    if (seen.has(key)) continue
    seen.add(key)
    const enrolment = enrolmentOf.get(offered.course.id)
    if (enrolment?.completedAt) continue
    const percent = enrolment ? courseProgress(offered.version.parsed, new Set(enrolment.lessons.map((l) => l.lessonId))).percent : null
    offers.push({
      organisation: instance.organization,
      instanceId: instance.id,
      recipeId: instance.recipeId,
      course: { slug: offered.course.slug, title: offered.version.parsed.title, languages: offered.version.parsed.languages },
      percent,
    })
  }
  return offers
}
