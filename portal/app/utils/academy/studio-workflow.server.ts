import { parseContent } from '@commons/academy/rules'
import { Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'
import { AcademyError, contentColumns } from './content.server'
import { audit, changeWorkingCopy, editDraft, NotPublishableError, notFound, publishProblems, stale, type StudioActor } from './studio.server'

// The workflow of a course version: submitted for review, sent back or
// published, a new draft started from the published version, a draft thrown
// away, a course never published deleted. The edits of a draft itself are in
// studio.server.ts; both change a working copy through changeWorkingCopy.


/** DRAFT → IN_REVIEW, once nothing stands between the draft and publishing. */
export function submitForReview(actor: StudioActor, courseId: string, revision: number) {
  return editDraft(actor, courseId, revision, async ({ course, content }) => {
    const problems = await publishProblems(course.slug, content)
    if (problems.length) throw new NotPublishableError(problems)
    return {
      data: { status: 'IN_REVIEW', submittedById: actor.userId, submittedAt: new Date(), reviewNote: null },
      audit: { action: 'academy.course-submitted' },
      result: undefined,
    }
  })
}

/** IN_REVIEW → DRAFT, with what the reviewer wants changed. */
export async function requestChanges(actor: StudioActor, courseId: string, revision: number, reviewNote: string) {
  const note = reviewNote.trim()
  if (!note) throw new AcademyError('studio.error.reviewNote', 400)
  return changeWorkingCopy(actor, courseId, revision, 'IN_REVIEW', () => ({
    data: { status: 'DRAFT', reviewNote: note },
    audit: { action: 'academy.course-changes-requested', data: { reviewNote: note } },
    result: undefined,
  }))
}

/**
 * IN_REVIEW → PUBLISHED, checked again (a prerequisite may have changed since
 * the submission); the version members saw until now is retired. Any trainer
 * may publish, also the one who submitted: small teams have one trainer.
 */
export function publish(actor: StudioActor, courseId: string, revision: number) {
  return changeWorkingCopy(actor, courseId, revision, 'IN_REVIEW', async ({ tx, course, content }) => {
    const problems = await publishProblems(course.slug, content)
    if (problems.length) throw new NotPublishableError(problems)
    // First, because the database allows one published version per course.
    await tx.courseVersion.updateMany({ where: { courseId, status: 'PUBLISHED' }, data: { status: 'RETIRED' } })
    return {
      data: { status: 'PUBLISHED', publishedById: actor.userId, publishedAt: new Date(), reviewNote: null },
      audit: { action: 'academy.course-published' },
      result: undefined,
    }
  })
}

/**
 * A new working copy: the published content as version n+1. Ids are copied
 * as they are, so members' progress carries over to what is published next.
 */
export async function startNewDraft(actor: StudioActor, courseId: string) {
  try {
    return await db().$transaction(async (tx) => {
      const course = await tx.course.findUnique({ where: { id: courseId }, include: { versions: { orderBy: { number: 'desc' } } } })
      if (!course) throw notFound()
      if (course.versions.some((v) => v.status === 'DRAFT' || v.status === 'IN_REVIEW')) throw new AcademyError('studio.error.draftExists', 409)
      const published = course.versions.find((v) => v.status === 'PUBLISHED')
      if (!published) throw new AcademyError('studio.error.nothingPublished', 409)
      const number = (course.versions[0]?.number ?? 0) + 1
      const version = await tx.courseVersion.create({
        data: { courseId, number, status: 'DRAFT', createdById: actor.userId, ...contentColumns(parseContent(published.content)) },
      })
      await audit(tx, actor, 'academy.draft-started', version.id, { courseId, number, from: published.number })
      return version
    })
  } catch (error) {
    // Two trainers starting a draft at once: the database keeps one working copy per course.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new AcademyError('studio.error.draftExists', 409)
    throw error
  }
}

/**
 * Throws the draft away; members keep seeing the published version. Refused
 * for a course that was never published: its draft is all there is of it,
 * and a course without any version would be a course nobody can open.
 */
export async function discardDraft(actor: StudioActor, courseId: string, revision: number) {
  return db().$transaction(async (tx) => {
    const course = await tx.course.findUnique({ where: { id: courseId } })
    if (!course) throw notFound()
    const draft = await tx.courseVersion.findFirst({ where: { courseId, status: { in: ['DRAFT', 'IN_REVIEW'] } } })
    if (!draft) throw new AcademyError('studio.error.noDraft', 409)
    if (draft.status !== 'DRAFT') throw new AcademyError('studio.error.inReview', 409)
    if (!(await tx.courseVersion.count({ where: { courseId, status: 'PUBLISHED' } }))) throw new AcademyError('studio.error.neverPublished', 409)
    const { count } = await tx.courseVersion.deleteMany({ where: { id: draft.id, revision, status: 'DRAFT' } })
    if (count === 0) throw stale()
    await audit(tx, actor, 'academy.draft-discarded', draft.id, { courseId, number: draft.number })
  })
}

/**
 * Deletes a course that was never published: its only version is a draft, so
 * nobody ever enrolled. Returns the storage keys of its images, for the
 * caller to remove from the store once the rows are gone. A course that was
 * ever published stays: members' progress and certificates refer to it.
 */
export async function deleteUnpublishedCourse(actor: StudioActor, courseId: string, revision: number): Promise<string[]> {
  return db().$transaction(async (tx) => {
    const course = await tx.course.findUnique({ where: { id: courseId }, include: { versions: true, images: { select: { storageKey: true } } } })
    if (!course) throw notFound()
    if (course.versions.some((v) => v.status !== 'DRAFT')) throw new AcademyError('studio.error.wasPublished', 409)
    const draft = course.versions[0]
    if (!draft || draft.revision !== revision) throw stale()
    await tx.course.delete({ where: { id: courseId } })
    await tx.auditEntry.create({ data: { actorId: actor.userId, action: 'academy.course-deleted', targetType: 'course', targetId: courseId, data: { slug: course.slug } } })
    return course.images.map((i) => i.storageKey)
  })
}
