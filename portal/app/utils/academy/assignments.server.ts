import { courseProgress, type Language } from '@commons/academy/rules'
import { db } from '../db.server'
import { enqueueMail } from '../email.server'
import { env } from '../env.server'
import { translator } from '../i18n'
import { AcademyError, publishedVersion } from './content.server'
import { languageOf, learner, prerequisiteStates, requirePublishedCourseById, titleIn } from './learning.server'

// Organisation admins asking their members to take a course.

export interface AssignmentResult {
  /** Members now assigned (and mailed). */
  assigned: { userId: string; name: string }[]
  /** Members who already completed the course: left alone. */
  alreadyCompleted: { userId: string; name: string }[]
  /** Assigned members who still have a prerequisite to complete first (the course page tells them which). */
  waitingForPrerequisites: { userId: string; name: string }[]
}

/**
 * An organisation admin asks members of their organisation to take a course.
 * `members` is a list of user ids, every one a member of that organisation,
 * or 'all' (every member but the admin). Each gets an enrolment marked with
 * who assigned it and a mail in their language. A member with prerequisites
 * still to do is assigned all the same: the course page shows them what to
 * complete first. Refused as a whole when someone named is not a member.
 */
export async function assignCourse(adminUserId: string, organizationSlug: string, courseId: string, members: readonly string[] | 'all'): Promise<AssignmentResult> {
  const organization = await db().organization.findUnique({ where: { slug: organizationSlug } })
  const membership = organization ? await db().membership.findUnique({ where: { userId_organizationId: { userId: adminUserId, organizationId: organization.id } } }) : null
  if (!organization || !membership) throw new AcademyError('academy.error.notFound', 404)
  if (membership.role !== 'ADMIN') throw new AcademyError('academy.error.notOrgAdmin', 403)
  const published = await requirePublishedCourseById(courseId)
  const admin = await learner(adminUserId)

  const memberships = await db().membership.findMany({ where: { organizationId: organization.id }, include: { user: true } })
  let chosen: typeof memberships
  if (members === 'all') {
    chosen = memberships.filter((m) => m.userId !== adminUserId)
  } else {
    const wanted = new Set(members)
    chosen = memberships.filter((m) => wanted.has(m.userId))
    if (chosen.length !== wanted.size) throw new AcademyError('academy.error.notMemberOfOrg', 400)
  }
  if (chosen.length === 0) throw new AcademyError('academy.error.noMembersChosen', 400)

  return db().$transaction(async (tx) => {
    const result: AssignmentResult = { assigned: [], alreadyCompleted: [], waitingForPrerequisites: [] }
    const now = new Date()
    for (const { user } of chosen) {
      const who = { userId: user.id, name: user.name }
      const existing = await tx.enrolment.findUnique({ where: { userId_courseId: { userId: user.id, courseId } } })
      if (existing?.completedAt) {
        result.alreadyCompleted.push(who)
        continue
      }
      const assignment = { assignedById: adminUserId, assignedByOrganizationId: organization.id, assignedAt: now }
      await tx.enrolment.upsert({ where: { userId_courseId: { userId: user.id, courseId } }, create: { userId: user.id, courseId, ...assignment }, update: assignment })
      const lang = languageOf(user)
      const missing = (await prerequisiteStates(user.id, published.version.parsed, tx)).filter((p) => !p.completed)
      if (missing.length) result.waitingForPrerequisites.push(who)
      result.assigned.push(who)
      const t = translator(lang)
      const vars = {
        name: user.name,
        admin: admin.name,
        org: organization.name,
        course: titleIn(published.version.parsed, lang),
        link: `${env().PORTAL_URL}/academy/${published.course.slug}`,
        courses: missing.map((p) => titleIn(p, lang)).join(', '),
      }
      await enqueueMail(
        {
          to: user.email,
          subject: t('academy.mail.assigned.subject', vars),
          text: [t('academy.mail.assigned.body', vars), ...(missing.length ? ['', t('academy.mail.assigned.prerequisites', vars)] : [])].join('\n'),
        },
        tx
      )
    }
    await tx.auditEntry.create({
      data: {
        actorId: adminUserId,
        action: 'academy.course.assign',
        targetType: 'course',
        targetId: courseId,
        data: { organizationId: organization.id, assigned: result.assigned.map((a) => a.userId), alreadyCompleted: result.alreadyCompleted.map((a) => a.userId) },
      },
    })
    return result
  })
}

export interface AssignedProgress {
  member: string
  courseSlug: string
  courseTitle: string
  assignedAt: Date
  done: number
  total: number
  completedAt: Date | null
}

/**
 * How the members of an organisation are getting on with the courses it
 * assigned them, for its admins. Only assigned courses: what a member takes
 * of their own accord stays theirs. Members who left the organisation are
 * not shown.
 */
export async function organisationAssignments(organizationId: string, lang: Language): Promise<AssignedProgress[]> {
  const enrolments = await db().enrolment.findMany({
    where: { assignedByOrganizationId: organizationId, user: { memberships: { some: { organizationId } } } },
    include: { user: { select: { name: true } }, course: { select: { id: true, slug: true } }, lessons: { where: { completedAt: { not: null } }, select: { lessonId: true } } },
    orderBy: [{ course: { slug: 'asc' } }, { user: { name: 'asc' } }],
  })
  const versions = new Map<string, Awaited<ReturnType<typeof publishedVersion>>>()
  const rows: AssignedProgress[] = []
  for (const e of enrolments) {
    if (!versions.has(e.courseId)) versions.set(e.courseId, await publishedVersion(e.courseId))
    const version = versions.get(e.courseId)
    // A course withdrawn since it was assigned has nothing to show.
    if (!version) continue
    const progress = courseProgress(version.parsed, new Set(e.lessons.map((l) => l.lessonId)))
    rows.push({
      member: e.user.name,
      courseSlug: e.course.slug,
      courseTitle: titleIn(version.parsed, lang),
      assignedAt: e.assignedAt ?? e.enrolledAt,
      done: progress.done,
      total: progress.total,
      completedAt: e.completedAt,
    })
  }
  return rows
}
