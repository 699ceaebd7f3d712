import { parseContent } from '@commons/academy/rules'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from '../db.server'
import { contentColumns } from './content.server'
import { courseStats, percent } from './stats.server'

// Real Postgres from the test harness: one course with a handful of members
// in every state, counted by hand.

const unique = Date.now().toString(36)
let n = 0
const text = (s: string) => ({ en: s, nl: s })

const content = parseContent({
  languages: ['en', 'nl'],
  title: text('Counting course'),
  summary: text('Summary'),
  audience: text('Everyone'),
  chapters: [
    {
      id: 'start',
      title: text('Start'),
      lessons: [
        { id: 'welcome', title: text('Welcome'), minutes: 5, body: text('Hello') },
        {
          id: 'check',
          title: text('Check'),
          minutes: 5,
          body: text('Quiz time'),
          quiz: {
            passMark: 50,
            attemptLimit: null,
            questions: [
              { id: 'q-one', kind: 'single', prompt: text('One?'), explanation: text('.'), options: [{ id: 'a', text: text('a'), correct: true }, { id: 'b', text: text('b'), correct: false }] },
              { id: 'q-two', kind: 'single', prompt: text('Two?'), explanation: text('.'), options: [{ id: 'a', text: text('a'), correct: true }, { id: 'b', text: text('b'), correct: false }] },
            ],
          },
        },
      ],
    },
    { id: 'end', title: text('End'), lessons: [{ id: 'goodbye', title: text('Goodbye'), minutes: 5, body: text('Bye') }] },
  ],
})

let courseId: string
let emptyCourseId: string
let orgId: string

async function member() {
  const tag = `stats-${unique}-${++n}`
  return db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@stats.test`, name: `Learner ${tag}` } })
}

type Plan = {
  assigned?: boolean
  opened?: string[]
  completedLessons?: string[]
  last?: string
  done?: boolean
  attempts?: { score: number; passed: boolean; results: Record<string, boolean> }[]
  certificate?: 'valid' | 'revoked'
}

async function enrol(plan: Plan) {
  const user = await member()
  const enrolment = await db().enrolment.create({
    data: {
      userId: user.id,
      courseId,
      ...(plan.assigned ? { assignedAt: new Date(), assignedByOrganizationId: orgId } : {}),
      lastLessonId: plan.last ?? plan.opened?.at(-1) ?? null,
      completedAt: plan.done ? new Date() : null,
      completedVersion: plan.done ? 1 : null,
    },
  })
  for (const lessonId of plan.opened ?? []) {
    await db().lessonProgress.create({
      data: { enrolmentId: enrolment.id, lessonId, completedAt: plan.completedLessons?.includes(lessonId) ? new Date() : null },
    })
  }
  for (const a of plan.attempts ?? []) {
    await db().quizAttempt.create({ data: { enrolmentId: enrolment.id, lessonId: 'check', versionNumber: 1, answers: {}, results: a.results, score: a.score, passed: a.passed } })
  }
  if (plan.certificate) {
    await db().certificate.create({
      data: {
        code: `T${unique}${n}`.toUpperCase(),
        enrolmentId: enrolment.id,
        courseId,
        holderName: user.name,
        courseTitle: text('Counting course'),
        versionNumber: 1,
        revokedAt: plan.certificate === 'revoked' ? new Date() : null,
      },
    })
  }
}

beforeAll(async () => {
  const org = await db().organization.create({ data: { slug: `stats-${unique}`, name: 'Stats coop', description: 'Test', sector: 'care', city: 'Delft' } })
  orgId = org.id
  const course = await db().course.create({
    data: { slug: `counting-${unique}`, versions: { create: { number: 1, status: 'PUBLISHED', ...contentColumns(content), publishedAt: new Date() } } },
  })
  courseId = course.id
  const empty = await db().course.create({
    data: { slug: `unpublished-${unique}`, versions: { create: { number: 1, status: 'DRAFT', ...contentColumns(content) } } },
  })
  emptyCourseId = empty.id

  const all = ['welcome', 'check', 'goodbye']
  const right = { 'q-one': true, 'q-two': true }
  // 1. Done, with a certificate: passed the quiz on the second try.
  await enrol({
    opened: all,
    completedLessons: all,
    done: true,
    attempts: [
      { score: 50, passed: true, results: { 'q-one': true, 'q-two': false } },
      { score: 100, passed: true, results: right },
    ],
    certificate: 'valid',
  })
  // 2. Done, assigned, certificate revoked.
  await enrol({ assigned: true, opened: all, completedLessons: all, done: true, attempts: [{ score: 100, passed: true, results: right }], certificate: 'revoked' })
  // 3. Stopped at the quiz after failing it.
  await enrol({ opened: ['welcome', 'check'], completedLessons: ['welcome'], attempts: [{ score: 0, passed: false, results: { 'q-one': false, 'q-two': false } }] })
  // 4. Assigned, stopped in the first lesson.
  await enrol({ assigned: true, opened: ['welcome'] })
  // 5. Assigned, never opened a lesson.
  await enrol({ assigned: true })
  // 6. Last in a lesson an earlier version had.
  await enrol({ opened: ['welcome'], completedLessons: ['welcome'], last: 'old-lesson' })
})

afterAll(async () => {
  await db().course.deleteMany({ where: { id: { in: [courseId, emptyCourseId] } } })
  await db().organization.deleteMany({ where: { id: orgId } })
  await db().user.deleteMany({ where: { email: { endsWith: '@stats.test', contains: unique } } })
  await disconnectDb()
})

describe('courseStats', () => {
  it('counts enrolments, starts and completions', async () => {
    const stats = await courseStats(courseId)
    expect(stats?.version).toEqual({ number: 1, status: 'PUBLISHED', title: text('Counting course'), languages: ['en', 'nl'] })
    expect(stats?.enrolments).toEqual({ total: 6, selfEnrolled: 3, assigned: 3, started: 5, completed: 2, completedPercent: 33 })
    expect(stats?.certificates).toEqual({ issued: 1, revoked: 1 })
  })

  it('says per lesson how many opened and completed it, and where members stop', async () => {
    const stats = await courseStats(courseId)
    expect(stats?.lessons.map((l) => [l.lessonId, l.position, l.opened, l.completed, l.stoppedHere])).toEqual([
      ['welcome', 1, 5, 4, 1],
      ['check', 2, 3, 2, 1],
      ['goodbye', 3, 2, 2, 0],
    ])
    expect(stats?.neverOpened).toBe(1)
    expect(stats?.stoppedInRemovedLesson).toBe(1)
  })

  it('says per quiz how it goes, and per question the share answered right', async () => {
    const [quiz] = (await courseStats(courseId))?.quizzes ?? []
    expect(quiz).toMatchObject({ lessonId: 'check', passMark: 50, attempts: 4, members: 3, passed: 2, passPercent: 67, averageScore: 63 })
    expect(quiz?.questions.map((q) => [q.questionId, q.answered, q.right, q.rightPercent])).toEqual([
      ['q-one', 4, 3, 75],
      ['q-two', 4, 2, 50],
    ])
  })

  it('has nothing to count for a course never published', async () => {
    expect(await courseStats(emptyCourseId)).toBeNull()
    expect(await courseStats('no-such-course')).toBeNull()
  })

  it('rounds shares to whole percent and has none of nothing', () => {
    expect(percent(1, 3)).toBe(33)
    expect(percent(2, 3)).toBe(67)
    expect(percent(0, 0)).toBeNull()
  })
})
