import { shuffledOptions, type ContentLesson, type CourseContent } from '@commons/academy/rules'
import { afterAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from '../db.server'
import { findCertificate, revokeCertificate } from './certificates.server'
import { contentColumns } from './content.server'
import { assignCourse, organisationAssignments } from './assignments.server'
import { completeLesson, courseOverview, enrol, myCourses, openLesson, renderLessonBody, submitQuiz } from './learning.server'

// Real Postgres from the test harness. Every course here is made by the test
// itself (not the seed), with a slug of its own; mails only reach the outbox.

const unique = Date.now().toString(36)
let n = 0
const made = { users: [] as string[], orgs: [] as string[], courses: [] as string[] }

async function person(locale: 'en' | 'nl' = 'en') {
  const tag = `learner-${unique}-${++n}`
  const user = await db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@learning.test`, name: `Lou ${tag}`, locale } })
  made.users.push(user.id)
  return user
}

async function organisation(admin: { id: string }, ...members: { id: string }[]) {
  const slug = `learning-${unique}-${++n}`
  const org = await db().organization.create({ data: { slug, name: `Coop ${slug}`, description: 'Test', sector: 'care', city: 'Delft' } })
  made.orgs.push(org.id)
  await db().membership.create({ data: { userId: admin.id, organizationId: org.id, role: 'ADMIN' } })
  if (members.length) await db().membership.createMany({ data: members.map((m) => ({ userId: m.id, organizationId: org.id, role: 'MEMBER' as const })) })
  return org
}

const lesson = (id: string, extra: Partial<ContentLesson> = {}): ContentLesson => ({
  id,
  title: { en: `Lesson ${id}`, nl: `Les ${id}` },
  minutes: 5,
  body: { en: `Read about ${id}.`, nl: `Lees over ${id}.` },
  ...extra,
})

/** The last lesson's quiz: pass with both right (100), or with one of two at a pass mark of 50. */
const quiz = (passMark = 100, attemptLimit: number | null = null): ContentLesson['quiz'] => ({
  passMark,
  attemptLimit,
  shuffle: true,
  questions: [
    {
      id: 'pick-one',
      kind: 'single',
      prompt: { en: 'Which one?', nl: 'Welke?' },
      explanation: { en: 'Because A.', nl: 'Omdat A.' },
      options: [
        { id: 'a', text: { en: 'A', nl: 'A' }, correct: true },
        { id: 'b', text: { en: 'B', nl: 'B' }, correct: false },
        { id: 'c', text: { en: 'C', nl: 'C' }, correct: false },
      ],
    },
    {
      id: 'pick-many',
      kind: 'multiple',
      prompt: { en: 'Which ones?', nl: 'Welke allemaal?' },
      explanation: { en: 'X and Y.', nl: 'X en Y.' },
      options: [
        { id: 'x', text: { en: 'X', nl: 'X' }, correct: true },
        { id: 'y', text: { en: 'Y', nl: 'Y' }, correct: true },
        { id: 'z', text: { en: 'Z', nl: 'Z' }, correct: false },
      ],
    },
  ],
})

function content(extra: Partial<CourseContent> = {}): CourseContent {
  return {
    languages: ['en', 'nl'],
    title: { en: `Course ${unique}`, nl: `Cursus ${unique}` },
    summary: { en: 'Summary', nl: 'Samenvatting' },
    audience: { en: 'Everyone', nl: 'Iedereen' },
    toolRecipeId: null,
    prerequisites: [],
    sequential: true,
    chapters: [
      { id: 'first', title: { en: 'First', nl: 'Eerste' }, lessons: [lesson('intro'), lesson('practice')] },
      { id: 'second', title: { en: 'Second', nl: 'Tweede' }, lessons: [lesson('check', { quiz: quiz() })] },
    ],
    ...extra,
  }
}

async function course(body: CourseContent = content(), status: 'PUBLISHED' | 'DRAFT' = 'PUBLISHED') {
  const slug = `learning-${unique}-${++n}`
  const created = await db().course.create({ data: { slug } })
  made.courses.push(created.id)
  await db().courseVersion.create({ data: { courseId: created.id, number: 1, status, ...contentColumns(body) } })
  return created
}

/** A new published version: the old one retires, as publishing does. */
async function publishNewVersion(courseId: string, body: CourseContent) {
  const current = await db().courseVersion.findFirstOrThrow({ where: { courseId, status: 'PUBLISHED' } })
  await db().courseVersion.update({ where: { id: current.id }, data: { status: 'RETIRED' } })
  await db().courseVersion.create({ data: { courseId, number: current.number + 1, status: 'PUBLISHED', ...contentColumns(body) } })
}

const RIGHT = { 'pick-one': ['a'], 'pick-many': ['x', 'y'] }
const HALF = { 'pick-one': ['a'], 'pick-many': ['x'] }

/** Enrols and works through every lesson but the quiz. */
async function upToQuiz(userId: string, c: { id: string; slug: string }) {
  await enrol(userId, c.id)
  for (const id of ['intro', 'practice']) {
    await openLesson(userId, c.slug, id)
    await completeLesson(userId, c.slug, id)
  }
  await openLesson(userId, c.slug, 'check')
}

const enrolmentOf = (userId: string, courseId: string) => db().enrolment.findUniqueOrThrow({ where: { userId_courseId: { userId, courseId } } })
const mailsTo = (email: string) => db().outboxMail.findMany({ where: { to: email }, orderBy: { createdAt: 'asc' } })

afterAll(async () => {
  await db().auditEntry.deleteMany({ where: { targetType: 'course', targetId: { in: made.courses } } })
  await db().auditEntry.deleteMany({ where: { action: 'academy.certificate-revoked', actorId: { in: made.users } } })
  await db().course.deleteMany({ where: { id: { in: made.courses } } })
  await db().outboxMail.deleteMany({ where: { to: { endsWith: '@learning.test' } } })
  await db().organization.deleteMany({ where: { id: { in: made.orgs } } })
  await db().user.deleteMany({ where: { id: { in: made.users } } })
  await disconnectDb()
})

describe('enrolling', () => {
  it('enrols in a published course once, however often "Start course" is pressed', async () => {
    const member = await person()
    const c = await course()
    const first = await enrol(member.id, c.id)
    const again = await enrol(member.id, c.id)
    expect(again.id).toBe(first.id)
    expect(await db().enrolment.count({ where: { courseId: c.id } })).toBe(1)
  })

  it('refuses a course that is not published, as if it did not exist', async () => {
    const member = await person()
    const draft = await course(content(), 'DRAFT')
    await expect(enrol(member.id, draft.id)).rejects.toMatchObject({ key: 'academy.error.notFound', status: 404 })
    await expect(enrol(member.id, 'no-such-course')).rejects.toMatchObject({ status: 404 })
    await expect(openLesson(member.id, draft.slug, 'intro')).rejects.toMatchObject({ status: 404 })
    expect(await db().enrolment.count({ where: { userId: member.id } })).toBe(0)
  })

  it('asks to complete the prerequisites first, naming them, and enrols once they are done', async () => {
    const member = await person()
    const basics = await course(content({ chapters: [{ id: 'only', title: { en: 'Only' }, lessons: [lesson('one')] }] }))
    const basicsTitle = (await courseOverview(member.id, basics.slug)).version.parsed.title.en!
    const retired = await course(content(), 'DRAFT')
    const advanced = await course(content({ prerequisites: [basics.slug, retired.slug] }))
    await expect(enrol(member.id, advanced.id)).rejects.toMatchObject({ key: 'academy.error.prerequisites', status: 409, vars: { courses: basicsTitle } })
    expect(await db().enrolment.count({ where: { userId: member.id, courseId: advanced.id } })).toBe(0)
    const overview = await courseOverview(member.id, advanced.slug)
    // The draft is not published, so it holds nobody back and is not shown.
    expect(overview.prerequisites.map((p) => [p.slug, p.completed])).toEqual([[basics.slug, false]])

    await enrol(member.id, basics.id)
    await openLesson(member.id, basics.slug, 'one')
    expect(await completeLesson(member.id, basics.slug, 'one')).toMatchObject({ courseCompleted: true })
    await enrol(member.id, advanced.id)
    expect((await courseOverview(member.id, advanced.slug)).prerequisites[0]?.completed).toBe(true)
  })
})

describe('lessons', () => {
  it('sends someone not enrolled to the course page, and answers 404 for a forged slug or lesson id', async () => {
    const member = await person()
    const c = await course()
    await expect(openLesson(member.id, c.slug, 'intro')).rejects.toMatchObject({ key: 'academy.error.notEnrolled' })
    await enrol(member.id, c.id)
    await expect(openLesson(member.id, c.slug, 'no-such-lesson')).rejects.toMatchObject({ key: 'academy.error.notFound', status: 404 })
    await expect(openLesson(member.id, `${c.slug}-forged`, 'intro')).rejects.toMatchObject({ status: 404 })
    await expect(submitQuiz(member.id, c.slug, 'forged', RIGHT)).rejects.toMatchObject({ status: 404 })
  })

  it('opens lessons one after the other, names the lesson to finish first, and records nothing for a locked one', async () => {
    const member = await person()
    const c = await course()
    const enrolment = await enrol(member.id, c.id)
    await expect(openLesson(member.id, c.slug, 'practice')).rejects.toMatchObject({ key: 'academy.error.locked', status: 409, vars: { lesson: 'Lesson intro', lessonId: 'intro' } })
    await expect(completeLesson(member.id, c.slug, 'practice')).rejects.toMatchObject({ key: 'academy.error.locked' })
    expect(await db().lessonProgress.count({ where: { enrolmentId: enrolment.id } })).toBe(0)
    expect((await enrolmentOf(member.id, c.id)).lastLessonId).toBeNull()

    const opened = await openLesson(member.id, c.slug, 'intro')
    expect(opened).toMatchObject({ index: 0, done: false, quiz: null, previousId: null, nextId: 'practice' })
    const first = await db().lessonProgress.findUniqueOrThrow({ where: { enrolmentId_lessonId: { enrolmentId: enrolment.id, lessonId: 'intro' } } })
    expect(first.completedAt).toBeNull()
    const seen = await enrolmentOf(member.id, c.id)
    expect(seen.lastLessonId).toBe('intro')
    expect(seen.lastSeenAt).not.toBeNull()

    await openLesson(member.id, c.slug, 'intro')
    const again = await db().lessonProgress.findUniqueOrThrow({ where: { enrolmentId_lessonId: { enrolmentId: enrolment.id, lessonId: 'intro' } } })
    expect(again.firstOpenedAt).toEqual(first.firstOpenedAt)

    await completeLesson(member.id, c.slug, 'intro')
    const next = await openLesson(member.id, c.slug, 'practice')
    expect(next).toMatchObject({ previousId: 'intro', nextId: 'check' })
    expect(next.progress.lessons.map((l) => l.state)).toEqual(['done', 'open', 'locked'])
  })

  it('lets a lesson with a quiz be done only by passing it', async () => {
    const member = await person()
    const c = await course()
    await upToQuiz(member.id, c)
    await expect(completeLesson(member.id, c.slug, 'check')).rejects.toMatchObject({ key: 'academy.error.quizRequired' })
    const progress = await db().lessonProgress.findFirstOrThrow({ where: { lessonId: 'check', enrolment: { userId: member.id } } })
    expect(progress.completedAt).toBeNull()
  })

  it('opens every lesson of a course that is not sequential', async () => {
    const member = await person()
    const c = await course(content({ sequential: false }))
    await enrol(member.id, c.id)
    expect((await openLesson(member.id, c.slug, 'check')).quiz).not.toBeNull()
  })

  it('renders a lesson body inert: no script, no event handler, no javascript: link', () => {
    const hostile = lesson('evil', {
      body: {
        en: '# Lesson evil\n\nHi.\n\n# Hello\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) and [ok](https://example.org)\n\n![pic](https://tracker.example/p.png)',
      },
    })
    const html = renderLessonBody(content({ languages: ['en'] }), hostile, 'nl')
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/<img[^>]*onerror/i)
    expect(html).not.toMatch(/href="javascript:/i)
    expect(html).not.toMatch(/src="https:\/\/tracker/)
    expect(html).toContain('&lt;script&gt;')
    // The page shows the title itself; the body's own headings rank below it.
    expect(html).not.toContain('Lesson evil')
    expect(html).toContain('<h2>Hello</h2>')
    expect(html).toMatch(/<a href="https:\/\/example.org"[^>]*rel="nofollow noopener noreferrer"/)
  })
})

describe('quizzes', () => {
  it('refuses an answer to a locked lesson and answers with problems, storing nothing', async () => {
    const member = await person()
    const c = await course()
    const enrolment = await enrol(member.id, c.id)
    await expect(submitQuiz(member.id, c.slug, 'check', RIGHT)).rejects.toMatchObject({ key: 'academy.error.locked' })
    await upToQuiz(member.id, c)
    const invalid = await submitQuiz(member.id, c.slug, 'check', { 'pick-one': ['a', 'b'], 'pick-many': ['forged'] })
    expect(invalid).toEqual({
      status: 'invalid',
      problems: [
        { code: 'one-answer-only', questionId: 'pick-one' },
        { code: 'unknown-option', questionId: 'pick-many' },
      ],
    })
    expect(await submitQuiz(member.id, c.slug, 'check', {})).toMatchObject({ status: 'invalid' })
    expect(await db().quizAttempt.count({ where: { enrolmentId: enrolment.id } })).toBe(0)
  })

  it('stores a failed attempt with explanations, then passes, completing the lesson, the course and issuing a certificate with a mail in the member’s language', async () => {
    const member = await person('nl')
    const c = await course()
    await upToQuiz(member.id, c)
    const enrolment = await enrolmentOf(member.id, c.id)
    const before = await openLesson(member.id, c.slug, 'check')
    expect(before.quiz).toMatchObject({ attemptNumber: 1, used: 0, left: null, mayAttempt: true, passed: false })
    // The option order is the member's own for this attempt, the same on every reload.
    const options = content().chapters[1]!.lessons[0]!.quiz!.questions[0]!.options
    expect(before.quiz!.order['pick-one']).toEqual(shuffledOptions(options, `${enrolment.id}:check:1:pick-one`).map((o) => o.id))
    expect((await openLesson(member.id, c.slug, 'check')).quiz!.order).toEqual(before.quiz!.order)

    const failed = await submitQuiz(member.id, c.slug, 'check', HALF)
    if (failed.status !== 'graded') throw new Error('expected a grade')
    expect(failed).toMatchObject({ attemptNumber: 1, score: 50, right: 1, total: 2, passed: false, mayAttemptAgain: true, courseCompleted: false, certificateCode: null })
    expect(failed.questions.map((q) => [q.questionId, q.correct, q.explanation.nl])).toEqual([
      ['pick-one', true, 'Omdat A.'],
      ['pick-many', false, 'X en Y.'],
    ])
    expect(failed.questions[1]).toMatchObject({ chosen: ['x'], correctOptions: ['x', 'y'] })
    const attempt = await db().quizAttempt.findFirstOrThrow({ where: { enrolmentId: enrolment.id } })
    expect(attempt).toMatchObject({
      lessonId: 'check',
      versionNumber: 1,
      score: 50,
      passed: false,
      results: { 'pick-one': true, 'pick-many': false },
      answers: { 'pick-one': ['a'], 'pick-many': ['x'] },
    })
    expect((await openLesson(member.id, c.slug, 'check')).quiz).toMatchObject({ attemptNumber: 2, used: 1, passed: false, best: 50 })

    const passed = await submitQuiz(member.id, c.slug, 'check', RIGHT)
    expect(passed).toMatchObject({ status: 'graded', attemptNumber: 2, score: 100, passed: true, mayAttemptAgain: false, courseCompleted: true })
    if (passed.status !== 'graded') throw new Error('expected a grade')
    expect(passed.certificateCode).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/)
    const done = await enrolmentOf(member.id, c.id)
    expect(done.completedAt).not.toBeNull()
    expect(done.completedVersion).toBe(1)
    const certificate = await db().certificate.findUniqueOrThrow({ where: { enrolmentId: enrolment.id } })
    expect(certificate).toMatchObject({ code: passed.certificateCode, holderName: member.name, versionNumber: 1, courseId: c.id })
    expect(certificate.courseTitle).toEqual(content().title)
    const mails = await mailsTo(member.email)
    expect(mails).toHaveLength(1)
    expect(mails[0]!.subject).toBe(`Je certificaat voor “${content().title.nl}”`)
    expect(mails[0]!.text).toContain(`/certificates/${passed.certificateCode}`)

    await expect(submitQuiz(member.id, c.slug, 'check', RIGHT)).rejects.toMatchObject({ key: 'academy.error.quizPassed' })
    expect(await db().quizAttempt.count({ where: { enrolmentId: enrolment.id } })).toBe(2)
    const mine = (await myCourses(member.id)).find((m) => m.courseId === c.id)
    expect(mine).toMatchObject({ percent: 100, completed: true, certificateCode: passed.certificateCode, nextLessonId: null, assignedBy: null })
  })

  it('passes at the pass mark exactly, and stops at the attempt limit without storing more', async () => {
    const member = await person()
    const atMark = await course(content({ chapters: [{ id: 'c', title: { en: 'C' }, lessons: [lesson('check', { quiz: quiz(50) })] }] }))
    await enrol(member.id, atMark.id)
    expect(await submitQuiz(member.id, atMark.slug, 'check', HALF)).toMatchObject({ score: 50, passed: true, courseCompleted: true })

    const limited = await course(content({ chapters: [{ id: 'c', title: { en: 'C' }, lessons: [lesson('check', { quiz: quiz(100, 2) })] }] }))
    const enrolment = await enrol(member.id, limited.id)
    expect(await submitQuiz(member.id, limited.slug, 'check', HALF)).toMatchObject({ passed: false, left: 1, mayAttemptAgain: true })
    expect(await submitQuiz(member.id, limited.slug, 'check', HALF)).toMatchObject({ passed: false, left: 0, mayAttemptAgain: false })
    expect((await openLesson(member.id, limited.slug, 'check')).quiz).toMatchObject({ mayAttempt: false, left: 0 })
    await expect(submitQuiz(member.id, limited.slug, 'check', RIGHT)).rejects.toMatchObject({ key: 'academy.error.noAttemptsLeft' })
    expect(await db().quizAttempt.count({ where: { enrolmentId: enrolment.id } })).toBe(2)

    // A new version of the course gives fresh attempts: the trainer may have fixed the quiz.
    await publishNewVersion(limited.id, content({ chapters: [{ id: 'c', title: { en: 'C' }, lessons: [lesson('check', { quiz: quiz(100, 2) })] }] }))
    expect(await submitQuiz(member.id, limited.slug, 'check', RIGHT)).toMatchObject({ passed: true, attemptNumber: 1, courseCompleted: true })
  })

  it('treats a quiz without questions as no quiz: the lesson is marked as done', async () => {
    const member = await person()
    const c = await course(
      content({ chapters: [{ id: 'c', title: { en: 'C' }, lessons: [lesson('empty', { quiz: { passMark: 50, attemptLimit: null, shuffle: true, questions: [] } })] }] })
    )
    await enrol(member.id, c.id)
    expect((await openLesson(member.id, c.slug, 'empty')).quiz).toBeNull()
    await expect(submitQuiz(member.id, c.slug, 'empty', {})).rejects.toMatchObject({ key: 'academy.error.noQuiz' })
    expect(await completeLesson(member.id, c.slug, 'empty')).toMatchObject({ courseCompleted: true })
  })
})

describe('a new version of a completed course', () => {
  it('keeps progress by lesson id, asks for the new lesson, and does not issue a second certificate', async () => {
    const member = await person()
    const c = await course()
    await upToQuiz(member.id, c)
    const passed = await submitQuiz(member.id, c.slug, 'check', RIGHT)
    if (passed.status !== 'graded') throw new Error('expected a grade')
    const v2 = content()
    v2.chapters[0]!.lessons = [lesson('intro'), lesson('extra')] // "practice" removed, "extra" added
    await publishNewVersion(c.id, v2)

    const mine = (await myCourses(member.id)).find((m) => m.courseId === c.id)!
    expect(mine).toMatchObject({ completed: true, completedVersion: 1, done: 2, total: 3, percent: 66, nextLessonId: 'extra', certificateCode: passed.certificateCode })
    await expect(openLesson(member.id, c.slug, 'practice')).rejects.toMatchObject({ status: 404 })
    await openLesson(member.id, c.slug, 'extra')
    expect(await completeLesson(member.id, c.slug, 'extra')).toMatchObject({ courseCompleted: true, certificateCode: passed.certificateCode })
    const enrolment = await enrolmentOf(member.id, c.id)
    expect(enrolment.completedVersion).toBe(2)
    expect(await db().certificate.count({ where: { enrolmentId: enrolment.id } })).toBe(1)
    expect(await mailsTo(member.email)).toHaveLength(1)
    // Done again is done: completing a done lesson changes nothing.
    expect(await completeLesson(member.id, c.slug, 'extra')).toMatchObject({ courseCompleted: false, certificateCode: passed.certificateCode })
  })
})

describe('assigning a course', () => {
  it('lets only an admin of the organisation assign, only to its members, changing nothing when refused', async () => {
    const admin = await person()
    const member = await person()
    const outsider = await person()
    const org = await organisation(admin, member)
    const c = await course()
    await expect(assignCourse(member.id, org.slug, c.id, 'all')).rejects.toMatchObject({ key: 'academy.error.notOrgAdmin', status: 403 })
    await expect(assignCourse(outsider.id, org.slug, c.id, 'all')).rejects.toMatchObject({ status: 404 })
    await expect(assignCourse(admin.id, org.slug, c.id, [member.id, outsider.id])).rejects.toMatchObject({ key: 'academy.error.notMemberOfOrg', status: 400 })
    const draft = await course(content(), 'DRAFT')
    await expect(assignCourse(admin.id, org.slug, draft.id, 'all')).rejects.toMatchObject({ status: 404 })
    expect(await db().enrolment.count({ where: { courseId: { in: [c.id, draft.id] } } })).toBe(0)
    expect(await mailsTo(member.email)).toHaveLength(0)
  })

  it('assigns to all members with who asked, mails each in their language, and shows it under their courses', async () => {
    const admin = await person()
    const en = await person('en')
    const nl = await person('nl')
    const org = await organisation(admin, en, nl)
    const basics = await course(content({ chapters: [{ id: 'only', title: { en: 'Only' }, lessons: [lesson('one')] }] }))
    const c = await course(content({ prerequisites: [basics.slug] }))
    const title = content().title
    // The Dutch member already did the basics; the English one did not.
    await enrol(nl.id, basics.id)
    await completeLesson(nl.id, basics.slug, 'one')
    await db().outboxMail.deleteMany({ where: { to: nl.email } })

    const result = await assignCourse(admin.id, org.slug, c.id, 'all')
    expect(result.assigned.map((a) => a.userId).sort()).toEqual([en.id, nl.id].sort())
    expect(result.waitingForPrerequisites.map((a) => a.userId)).toEqual([en.id])
    const enrolment = await enrolmentOf(en.id, c.id)
    expect(enrolment).toMatchObject({ assignedById: admin.id, assignedByOrganizationId: org.id })
    expect(enrolment.assignedAt).not.toBeNull()
    expect(await db().enrolment.count({ where: { userId: admin.id, courseId: c.id } })).toBe(0)

    const [enMail] = await mailsTo(en.email)
    expect(enMail?.subject).toBe(`${admin.name} of ${org.name} asks you to take “${title.en}”`)
    expect(enMail?.text).toContain(`/academy/${c.slug}`)
    expect(enMail?.text).toContain('First complete:')
    const [nlMail] = await mailsTo(nl.email)
    expect(nlMail?.subject).toBe(`${admin.name} van ${org.name} vraagt je “${title.nl}” te volgen`)
    expect(nlMail?.text).not.toContain('Rond eerst af')

    const mine = (await myCourses(en.id)).find((m) => m.courseId === c.id)
    expect(mine).toMatchObject({ assignedBy: { name: admin.name, organization: org.name }, started: false, percent: 0 })
    expect(mine?.prerequisitesToDo.map((p) => p.slug)).toEqual([basics.slug])
    // Assigned, but the prerequisite still comes first.
    await expect(openLesson(en.id, c.slug, 'intro')).rejects.toMatchObject({ key: 'academy.error.prerequisites' })
    await openLesson(nl.id, c.slug, 'intro')

    const audit = await db().auditEntry.findFirstOrThrow({ where: { targetType: 'course', targetId: c.id, action: 'academy.course.assign' } })
    expect(audit.actorId).toBe(admin.id)
  })

  it('keeps a member who completed the course out of a new assignment', async () => {
    const admin = await person()
    const member = await person()
    const org = await organisation(admin, member)
    const c = await course(content({ chapters: [{ id: 'only', title: { en: 'Only' }, lessons: [lesson('one')] }] }))
    await enrol(member.id, c.id)
    await completeLesson(member.id, c.slug, 'one')
    const before = (await mailsTo(member.email)).length
    const result = await assignCourse(admin.id, org.slug, c.id, [member.id])
    expect(result).toMatchObject({ assigned: [], alreadyCompleted: [{ userId: member.id }] })
    expect(await mailsTo(member.email)).toHaveLength(before)
    expect((await enrolmentOf(member.id, c.id)).assignedById).toBeNull()
  })

  it('shows the organisation’s admins progress on assigned courses only, and only of its members', async () => {
    const admin = await person()
    const member = await person()
    const leaver = await person()
    const org = await organisation(admin, member, leaver)
    const assigned = await course(content({ chapters: [{ id: 'only', title: { en: 'Only' }, lessons: [lesson('one'), lesson('two')] }] }))
    const ownChoice = await course()
    await assignCourse(admin.id, org.slug, assigned.id, [member.id, leaver.id])
    await completeLesson(member.id, assigned.slug, 'one')
    await enrol(member.id, ownChoice.id)
    await db().membership.deleteMany({ where: { organizationId: org.id, userId: leaver.id } })

    const rows = await organisationAssignments(org.id, 'en')
    expect(rows).toEqual([expect.objectContaining({ member: member.name, courseSlug: assigned.slug, courseTitle: content().title.en, done: 1, total: 2, completedAt: null })])
  })
})

describe('certificates', () => {
  it('finds a certificate by its code typed in any case, with spaces or without dashes, and shows a revoked one as revoked', async () => {
    const member = await person()
    const c = await course(content({ chapters: [{ id: 'only', title: { en: 'Only' }, lessons: [lesson('one')] }] }))
    await enrol(member.id, c.id)
    const { certificateCode } = await completeLesson(member.id, c.slug, 'one')
    const code = certificateCode!
    const bare = code.replaceAll('-', '')
    for (const typed of [code, code.toLowerCase(), bare, ` ${bare.slice(0, 4)} ${bare.slice(4, 8)} ${bare.slice(8)} `]) {
      expect(await findCertificate(typed)).toMatchObject({ code, holderName: member.name, versionNumber: 1, revoked: false })
    }
    expect(await findCertificate('AAAA-AAAA-AAA')).toBeNull()
    expect(await findCertificate('OOOO-IIII-LLLL')).toBeNull()
    expect(await findCertificate("'; drop table --")).toBeNull()
    await db().certificate.update({ where: { code }, data: { revokedAt: new Date() } })
    expect(await findCertificate(code)).toMatchObject({ revoked: true })
  })

  it('lets a trainer revoke a certificate of their course once, by its code as typed, and nothing else', async () => {
    const trainer = await person()
    const member = await person()
    const c = await course(content({ chapters: [{ id: 'only', title: { en: 'Only' }, lessons: [lesson('one')] }] }))
    const other = await course()
    await enrol(member.id, c.id)
    const code = (await completeLesson(member.id, c.slug, 'one')).certificateCode!
    await expect(revokeCertificate(trainer.id, other.id, code)).rejects.toMatchObject({ key: 'studio.error.certificateUnknown', status: 400 })
    await expect(revokeCertificate(trainer.id, c.id, 'nonsense')).rejects.toMatchObject({ key: 'studio.error.certificateUnknown', status: 400 })
    expect(await findCertificate(code)).toMatchObject({ revoked: false })
    expect(await revokeCertificate(trainer.id, c.id, code.toLowerCase().replaceAll('-', ' '))).toEqual({ code })
    expect(await findCertificate(code)).toMatchObject({ revoked: true })
    await expect(revokeCertificate(trainer.id, c.id, code)).rejects.toMatchObject({ key: 'studio.error.certificateRevokedAlready', status: 409 })
    expect(await db().auditEntry.count({ where: { actorId: trainer.id, action: 'academy.certificate-revoked' } })).toBe(1)
  })
})
