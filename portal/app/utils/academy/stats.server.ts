import { contentLessons, parseContent, type Language, type Texts } from '@commons/academy/rules'
import { Prisma } from '~/generated/prisma/client'
import { db } from '../db.server'
import { publishedVersion, type VersionWithContent } from './content.server'

// A trainer's view of how a course goes: counts only, never who. Every
// figure is an aggregate in the database (count, avg, GROUP BY), so a course
// with ten thousand members costs a handful of index scans, not ten thousand
// rows in the portal (scripts/bench/academy.ts measures it).

export type LessonStats = {
  lessonId: string
  chapterTitle: Texts
  title: Texts
  /** Place in the course, 1-based. */
  position: number
  hasQuiz: boolean
  /** Members who opened it at least once. */
  opened: number
  completed: number
  /** Members who have not completed the course and opened this lesson last. */
  stoppedHere: number
}

export type QuestionStats = { questionId: string; prompt: Texts; answered: number; right: number; rightPercent: number | null }

export type QuizStats = {
  lessonId: string
  title: Texts
  passMark: number
  attempts: number
  /** Members who tried at least once. */
  members: number
  /** Members who passed at least once. */
  passed: number
  /** Of the members who tried, the share who passed. */
  passPercent: number | null
  /** Average score of all attempts, in whole percent. */
  averageScore: number | null
  questions: QuestionStats[]
}

export type CourseStats = {
  /** The version the lessons and quizzes are of: the published one, else the last retired one. */
  version: { number: number; status: 'PUBLISHED' | 'RETIRED'; title: Texts; languages: Language[] }
  enrolments: {
    total: number
    selfEnrolled: number
    assigned: number
    /** Opened at least one lesson. */
    started: number
    completed: number
    completedPercent: number | null
  }
  lessons: LessonStats[]
  /** Not completed, and never opened a lesson. */
  neverOpened: number
  /** Not completed, and last in a lesson this version no longer has. */
  stoppedInRemovedLesson: number
  quizzes: QuizStats[]
  certificates: { issued: number; revoked: number }
}

/** Whole percent of `part` in `whole`; null when there is no whole to speak of. */
export const percent = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 100))

/**
 * The statistics of one course, or null when it has never been published
 * (nothing to count yet). The caller has checked that the course exists and
 * that the person is a trainer.
 */
export async function courseStats(courseId: string): Promise<CourseStats | null> {
  const version = (await publishedVersion(courseId)) ?? (await lastRetired(courseId))
  if (!version) return null

  const [summary, stops, lessonRows, quizRows, questionRows, certificates] = await Promise.all([
    db().$queryRaw<{ total: number; assigned: number; started: number; completed: number; never_opened: number }[]>`
      SELECT count(*)::int AS total,
        count(*) FILTER (WHERE e."assignedAt" IS NOT NULL)::int AS assigned,
        count(*) FILTER (WHERE e."lastLessonId" IS NOT NULL OR e."completedAt" IS NOT NULL)::int AS started,
        count(*) FILTER (WHERE e."completedAt" IS NOT NULL)::int AS completed,
        count(*) FILTER (WHERE e."completedAt" IS NULL AND e."lastLessonId" IS NULL)::int AS never_opened
      FROM "Enrolment" e WHERE e."courseId" = ${courseId}`,
    db().enrolment.groupBy({ by: ['lastLessonId'], where: { courseId, completedAt: null, lastLessonId: { not: null } }, _count: { _all: true } }),
    db().$queryRaw<{ lesson_id: string; opened: number; completed: number }[]>`
      SELECT lp."lessonId" AS lesson_id, count(*)::int AS opened, count(lp."completedAt")::int AS completed
      FROM "LessonProgress" lp
      WHERE lp."enrolmentId" = ANY(${enrolmentsOf(courseId)})
      GROUP BY lp."lessonId"`,
    db().$queryRaw<{ lesson_id: string; attempts: number; members: number; passed: number; average: number | null }[]>`
      SELECT qa."lessonId" AS lesson_id, count(*)::int AS attempts,
        count(DISTINCT qa."enrolmentId")::int AS members,
        count(DISTINCT qa."enrolmentId") FILTER (WHERE qa.passed)::int AS passed,
        round(avg(qa.score))::int AS average
      FROM "QuizAttempt" qa
      WHERE qa."enrolmentId" = ANY(${enrolmentsOf(courseId)})
      GROUP BY qa."lessonId"`,
    // results is { questionId: true|false } per attempt; question ids stay the same across versions.
    db().$queryRaw<{ lesson_id: string; question_id: string; answered: number; right: number }[]>`
      SELECT qa."lessonId" AS lesson_id, r.key AS question_id, count(*)::int AS answered,
        count(*) FILTER (WHERE r.value = 'true'::jsonb)::int AS right
      FROM "QuizAttempt" qa
        CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(qa.results) = 'object' THEN qa.results ELSE '{}'::jsonb END) r
      WHERE qa."enrolmentId" = ANY(${enrolmentsOf(courseId)})
      GROUP BY qa."lessonId", r.key`,
    db().$queryRaw<{ issued: number; revoked: number }[]>`
      SELECT count(*) FILTER (WHERE c."revokedAt" IS NULL)::int AS issued, count(*) FILTER (WHERE c."revokedAt" IS NOT NULL)::int AS revoked
      FROM "Certificate" c WHERE c."courseId" = ${courseId}`,
  ])

  const totals = summary[0] ?? { total: 0, assigned: 0, started: 0, completed: 0, never_opened: 0 }
  const stopsAt = new Map(stops.map((s) => [s.lastLessonId, s._count._all]))
  const progressOf = new Map(lessonRows.map((r) => [r.lesson_id, r]))
  const lessons = contentLessons(version.parsed).map(({ chapter, lesson, index }): LessonStats => ({
    lessonId: lesson.id,
    chapterTitle: chapter.title,
    title: lesson.title,
    position: index + 1,
    hasQuiz: Boolean(lesson.quiz && lesson.quiz.questions.length > 0),
    opened: progressOf.get(lesson.id)?.opened ?? 0,
    completed: progressOf.get(lesson.id)?.completed ?? 0,
    stoppedHere: stopsAt.get(lesson.id) ?? 0,
  }))
  const inVersion = new Set(lessons.map((l) => l.lessonId))
  const stoppedInRemovedLesson = stops.filter((s) => s.lastLessonId !== null && !inVersion.has(s.lastLessonId)).reduce((n, s) => n + s._count._all, 0)

  const quizOf = new Map(quizRows.map((r) => [r.lesson_id, r]))
  const questionOf = new Map(questionRows.map((r) => [`${r.lesson_id} ${r.question_id}`, r]))
  const quizzes = contentLessons(version.parsed).flatMap(({ lesson }): QuizStats[] => {
    if (!lesson.quiz || lesson.quiz.questions.length === 0) return []
    const row = quizOf.get(lesson.id)
    const members = row?.members ?? 0
    const passed = row?.passed ?? 0
    return [
      {
        lessonId: lesson.id,
        title: lesson.title,
        passMark: lesson.quiz.passMark,
        attempts: row?.attempts ?? 0,
        members,
        passed,
        passPercent: percent(passed, members),
        averageScore: row?.average ?? null,
        questions: lesson.quiz.questions.map((question) => {
          const q = questionOf.get(`${lesson.id} ${question.id}`)
          const answered = q?.answered ?? 0
          const right = q?.right ?? 0
          return { questionId: question.id, prompt: question.prompt, answered, right, rightPercent: percent(right, answered) }
        }),
      },
    ]
  })

  return {
    version: { number: version.number, status: version.status === 'PUBLISHED' ? 'PUBLISHED' : 'RETIRED', title: version.parsed.title, languages: version.parsed.languages },
    enrolments: {
      total: totals.total,
      selfEnrolled: totals.total - totals.assigned,
      assigned: totals.assigned,
      started: totals.started,
      completed: totals.completed,
      completedPercent: percent(totals.completed, totals.total),
    },
    lessons,
    neverOpened: totals.never_opened,
    stoppedInRemovedLesson,
    quizzes,
    certificates: certificates[0] ?? { issued: 0, revoked: 0 },
  }
}

/**
 * The course's enrolment ids as one array, for `"enrolmentId" = ANY(…)`: the
 * rows are then found through the (enrolmentId, …) indexes, a course at a
 * time. A join lets the planner read the whole table instead, which grows
 * with every other course on the platform (see scripts/bench/academy.ts).
 */
const enrolmentsOf = (courseId: string) => Prisma.sql`ARRAY(SELECT e.id FROM "Enrolment" e WHERE e."courseId" = ${courseId})`

async function lastRetired(courseId: string): Promise<VersionWithContent | null> {
  const version = await db().courseVersion.findFirst({ where: { courseId, status: 'RETIRED' }, orderBy: { number: 'desc' } })
  return version ? { ...version, parsed: parseContent(version.content) } : null
}
