import {
  answerProblems,
  attemptsLeft,
  contentLessons,
  courseProgress,
  gradeQuiz,
  isLessonOpen,
  mayAttempt,
  parseContent,
  readingLanguage,
  shuffledOptions,
  textIn,
  type AnswerProblem,
  type ContentLesson,
  type ContentQuiz,
  type CourseContent,
  type CourseProgress,
  type QuizAnswers,
  type Texts,
} from '@commons/academy/rules'
import type { Certificate, Course, Enrolment, Prisma, User } from '~/generated/prisma/client'
import { db } from '../db.server'
import { enqueueMail } from '../email.server'
import { env } from '../env.server'
import { isLanguage, translator, type Language } from '../i18n'
import { renderMarkdown } from '../markdown.server'
import { issueCertificate } from './certificates.server'
import { AcademyError, publishedCourseBySlug, publishedVersion, type VersionWithContent } from './content.server'

// The members' side of the academy: enrolling, opening lessons, marking them
// done, answering quizzes, completing courses, and organisation admins
// assigning courses to their members. The rules themselves (what is open, how
// a quiz is graded) are the pure functions of @commons/academy; this module
// stores what happened and refuses what the rules do not allow, changing
// nothing when it refuses.

type Tx = Prisma.TransactionClient

export type Published = { course: Course; version: VersionWithContent }

/** The language mails to this person go out in. */
export const languageOf = (user: Pick<User, 'locale'>): Language => (isLanguage(user.locale) ? user.locale : 'nl')

/** A course title in a language, for messages and mails. */
export const titleIn = (content: Pick<CourseContent, 'title' | 'languages'>, lang: Language) => textIn(content.title, readingLanguage(content, lang), content.languages)

/** The published course behind a slug, or a 404: unpublished and unknown slugs look the same. */
export async function requirePublishedCourse(slug: string | undefined): Promise<Published> {
  const found = slug ? await publishedCourseBySlug(slug) : null
  if (!found) throw new AcademyError('academy.error.notFound', 404)
  return found
}

export async function requirePublishedCourseById(courseId: string): Promise<Published> {
  const course = await db().course.findUnique({ where: { id: courseId } })
  const version = course ? await publishedVersion(course.id) : null
  if (!course || !version) throw new AcademyError('academy.error.notFound', 404)
  return { course, version }
}

export type PrerequisiteState = { slug: string; title: Texts; languages: CourseContent['languages']; completed: boolean }

/**
 * The prerequisites of a course that are published, with whether this member
 * completed each. A prerequisite that is no longer published cannot be taken,
 * so it does not hold anyone back.
 */
export async function prerequisiteStates(userId: string, content: Pick<CourseContent, 'prerequisites'>, tx: Tx = db()): Promise<PrerequisiteState[]> {
  if (content.prerequisites.length === 0) return []
  const versions = await tx.courseVersion.findMany({ where: { status: 'PUBLISHED', course: { slug: { in: content.prerequisites } } }, include: { course: true } })
  const completed = await tx.enrolment.findMany({
    where: { userId, completedAt: { not: null }, courseId: { in: versions.map((v) => v.courseId) } },
    select: { courseId: true },
  })
  const done = new Set(completed.map((e) => e.courseId))
  const bySlug = new Map(versions.map((v) => [v.course.slug, v]))
  return content.prerequisites.flatMap((slug) => {
    const version = bySlug.get(slug)
    if (!version) return []
    const parsed = parseContent(version.content)
    return [{ slug, title: parsed.title, languages: parsed.languages, completed: done.has(version.courseId) }]
  })
}

/** Refuses while a published prerequisite is not completed, naming the courses to complete first. */
async function requirePrerequisites(userId: string, content: CourseContent, lang: Language, tx: Tx = db()) {
  const missing = (await prerequisiteStates(userId, content, tx)).filter((p) => !p.completed)
  if (missing.length > 0) {
    throw new AcademyError('academy.error.prerequisites', 409, { courses: missing.map((p) => titleIn(p, lang)).join(', ') })
  }
}

export async function learner(userId: string, tx: Tx = db()) {
  return tx.user.findUniqueOrThrow({ where: { id: userId }, select: { id: true, name: true, email: true, locale: true } })
}

/**
 * Enrols a member in a published course ("Start course"). Every published
 * prerequisite must be completed first. Enrolling twice is the same as once,
 * and an assigned enrolment stays assigned.
 */
export async function enrol(userId: string, courseId: string, lang?: Language): Promise<Enrolment> {
  const { version } = await requirePublishedCourseById(courseId)
  const user = await learner(userId)
  await requirePrerequisites(userId, version.parsed, lang ?? languageOf(user))
  return db().enrolment.upsert({ where: { userId_courseId: { userId, courseId } }, create: { userId, courseId }, update: {} })
}

type LessonPlace = { lesson: ContentLesson; chapterId: string; index: number }

function findLesson(content: CourseContent, lessonId: string | undefined): LessonPlace {
  const found = contentLessons(content).find((l) => l.lesson.id === lessonId)
  if (!found) throw new AcademyError('academy.error.notFound', 404)
  return { lesson: found.lesson, chapterId: found.chapter.id, index: found.index }
}

/** A quiz only counts when it has questions; an empty one leaves the lesson to "Mark as done". */
const quizOf = (lesson: ContentLesson): ContentQuiz | null => (lesson.quiz && lesson.quiz.questions.length > 0 ? lesson.quiz : null)

async function completedLessonIds(enrolmentId: string, tx: Tx = db()): Promise<Set<string>> {
  const rows = await tx.lessonProgress.findMany({ where: { enrolmentId, completedAt: { not: null } }, select: { lessonId: true } })
  return new Set(rows.map((r) => r.lessonId))
}

/** The enrolment, locked for the rest of the transaction: two answers sent at once are taken one after the other. */
async function lockEnrolment(tx: Tx, enrolmentId: string) {
  await tx.$queryRaw`SELECT id FROM "Enrolment" WHERE id = ${enrolmentId} FOR UPDATE`
  return tx.enrolment.findUniqueOrThrow({ where: { id: enrolmentId } })
}

interface LessonContext extends Published, LessonPlace {
  enrolment: Enrolment
  progress: CourseProgress
  lang: Language
}

/**
 * Everything a lesson action checks, in the order a member would want to hear
 * it: the course and lesson exist (404), they are enrolled (409
 * academy.error.notEnrolled: the page sends them to the course), its
 * prerequisites are done, and the lesson is open (409, naming the lesson to
 * finish first).
 */
async function lessonContext(tx: Tx, userId: string, slug: string | undefined, lessonId: string | undefined, lang?: Language): Promise<LessonContext> {
  const published = await requirePublishedCourse(slug)
  const content = published.version.parsed
  const place = findLesson(content, lessonId)
  const found = await tx.enrolment.findUnique({ where: { userId_courseId: { userId, courseId: published.course.id } } })
  if (!found) throw new AcademyError('academy.error.notEnrolled', 409)
  const language = lang ?? languageOf(await learner(userId, tx))
  await requirePrerequisites(userId, content, language, tx)
  const enrolment = await lockEnrolment(tx, found.id)
  const progress = courseProgress(content, await completedLessonIds(enrolment.id, tx))
  if (!isLessonOpen(progress, place.lesson.id)) {
    const first = contentLessons(content).find((l) => l.lesson.id === progress.next)?.lesson
    throw new AcademyError('academy.error.locked', 409, {
      lesson: first ? textIn(first.title, readingLanguage(content, language), content.languages) : '',
      lessonId: first?.id ?? '',
    })
  }
  return { ...published, ...place, enrolment, progress, lang: language }
}

export interface QuizState {
  /** The attempt a form shown now would be: the seed of the option order. */
  attemptNumber: number
  used: number
  left: number | null
  mayAttempt: boolean
  passed: boolean
  /** Option ids per question, in the order this member sees them in this attempt. */
  order: Record<string, string[]>
  best: number | null
}

/** Attempts count per version: a trainer who fixes a quiz gives everyone a fresh go at it. */
async function quizState(tx: Tx, enrolment: Enrolment, lessonId: string, versionNumber: number, quiz: ContentQuiz, lessonDone: boolean): Promise<QuizState> {
  const attempts = await tx.quizAttempt.findMany({ where: { enrolmentId: enrolment.id, lessonId, versionNumber }, select: { score: true, passed: true } })
  const passed = lessonDone || attempts.some((a) => a.passed)
  const attemptNumber = attempts.length + 1
  return {
    attemptNumber,
    used: attempts.length,
    left: attemptsLeft(quiz, attempts.length),
    mayAttempt: mayAttempt(quiz, attempts.length, passed),
    passed,
    order: optionOrder(quiz, enrolment.id, lessonId, attemptNumber),
    best: attempts.length ? Math.max(...attempts.map((a) => a.score)) : null,
  }
}

function optionOrder(quiz: ContentQuiz, enrolmentId: string, lessonId: string, attemptNumber: number): Record<string, string[]> {
  const seed = `${enrolmentId}:${lessonId}:${attemptNumber}`
  return Object.fromEntries(quiz.questions.map((q) => [q.id, (quiz.shuffle ? shuffledOptions(q.options, `${seed}:${q.id}`) : q.options).map((o) => o.id)]))
}

/**
 * The lesson body as safe HTML in the member's language: raw HTML shown as
 * text, only safe links, no foreign images. The page's own heading is the
 * lesson title, so a body that opens with the title as a heading loses it,
 * and any other top-level heading ranks below the page's.
 */
export function renderLessonBody(content: CourseContent, lesson: ContentLesson, lang: Language): string {
  const html = renderMarkdown(textIn(lesson.body, readingLanguage(content, lang), content.languages), { allowedOrigins: [env().PORTAL_URL] })
  return html
    .replace(/^\s*<h1>[\s\S]*?<\/h1>\s*/, '')
    .replace(/<h1>/g, '<h2>')
    .replace(/<\/h1>/g, '</h2>')
}

export interface OpenedLesson extends Published {
  enrolment: Enrolment
  progress: CourseProgress
  lesson: ContentLesson
  chapterId: string
  index: number
  done: boolean
  quiz: QuizState | null
  html: string
  previousId: string | null
  nextId: string | null
}

/**
 * Opens a lesson for reading: records when the member first opened it and
 * where they are (for "Go on" and for the trainers' view of where learners
 * stop). Refused for a lesson that is not open yet; records nothing then.
 */
export async function openLesson(userId: string, slug: string | undefined, lessonId: string | undefined, lang?: Language): Promise<OpenedLesson> {
  return db().$transaction(async (tx) => {
    const context = await lessonContext(tx, userId, slug, lessonId, lang)
    const { enrolment, lesson, progress, version } = context
    const now = new Date()
    await tx.lessonProgress.upsert({
      where: { enrolmentId_lessonId: { enrolmentId: enrolment.id, lessonId: lesson.id } },
      create: { enrolmentId: enrolment.id, lessonId: lesson.id, firstOpenedAt: now },
      update: {},
    })
    const updated = await tx.enrolment.update({ where: { id: enrolment.id }, data: { lastLessonId: lesson.id, lastSeenAt: now } })
    const done = progress.lessons[context.index]?.state === 'done'
    const quiz = quizOf(lesson)
    const all = progress.lessons
    return {
      course: context.course,
      version,
      enrolment: updated,
      progress,
      lesson,
      chapterId: context.chapterId,
      index: context.index,
      done,
      quiz: quiz ? await quizState(tx, enrolment, lesson.id, version.number, quiz, done) : null,
      html: renderLessonBody(version.parsed, lesson, context.lang),
      previousId: all[context.index - 1]?.lessonId ?? null,
      nextId: all[context.index + 1]?.lessonId ?? null,
    }
  })
}

export interface Completion {
  /** The course became complete with this step. */
  courseCompleted: boolean
  certificateCode: string | null
}

/**
 * Completes the course when every lesson of the published version is done:
 * the enrolment's completion and, the first time, the certificate and a mail
 * with its link, all in the caller's transaction. A member completing a newer
 * version keeps the certificate they have.
 */
async function completeCourseIfDone(tx: Tx, enrolment: Enrolment, published: Published): Promise<Completion> {
  const { version, course } = published
  const progress = courseProgress(version.parsed, await completedLessonIds(enrolment.id, tx))
  if (!progress.complete || enrolment.completedVersion === version.number) {
    const existing = await tx.certificate.findUnique({ where: { enrolmentId: enrolment.id }, select: { code: true } })
    return { courseCompleted: false, certificateCode: existing?.code ?? null }
  }
  await tx.enrolment.update({ where: { id: enrolment.id }, data: { completedAt: new Date(), completedVersion: version.number } })
  const user = await learner(enrolment.userId, tx)
  const { certificate, issued } = await issueCertificate(tx, {
    enrolmentId: enrolment.id,
    courseId: course.id,
    holderName: user.name,
    courseTitle: Object.fromEntries(version.parsed.languages.map((l) => [l, textIn(version.parsed.title, l, version.parsed.languages)])),
    versionNumber: version.number,
  })
  if (issued) await mailCertificate(tx, user, version.parsed, certificate)
  return { courseCompleted: true, certificateCode: certificate.code }
}

async function mailCertificate(tx: Tx, user: { email: string; name: string; locale: string | null }, content: CourseContent, certificate: Certificate) {
  const lang = languageOf(user)
  const t = translator(lang)
  const vars = { name: user.name, course: titleIn(content, lang), link: `${env().PORTAL_URL}/certificates/${certificate.code}`, code: certificate.code }
  await enqueueMail({ to: user.email, subject: t('academy.mail.certificate.subject', vars), text: t('academy.mail.certificate.body', vars) }, tx)
}

async function markDone(tx: Tx, enrolmentId: string, lessonId: string) {
  const now = new Date()
  await tx.lessonProgress.upsert({
    where: { enrolmentId_lessonId: { enrolmentId, lessonId } },
    create: { enrolmentId, lessonId, firstOpenedAt: now, completedAt: now },
    // Done once is done: marking it again keeps the first date.
    update: {},
  })
  await tx.lessonProgress.updateMany({ where: { enrolmentId, lessonId, completedAt: null }, data: { completedAt: now } })
}

/** "Mark as done" for a lesson without a quiz; a lesson with a quiz is done by passing it. */
export async function completeLesson(userId: string, slug: string | undefined, lessonId: string | undefined, lang?: Language): Promise<Completion> {
  return db().$transaction(async (tx) => {
    const context = await lessonContext(tx, userId, slug, lessonId, lang)
    if (quizOf(context.lesson)) throw new AcademyError('academy.error.quizRequired', 409)
    await markDone(tx, context.enrolment.id, context.lesson.id)
    return completeCourseIfDone(tx, context.enrolment, context)
  })
}

export interface GradedQuestion {
  questionId: string
  correct: boolean
  chosen: string[]
  correctOptions: string[]
  /** The option ids in the order they were shown in this attempt. */
  order: string[]
  explanation: Texts
}

export type QuizSubmission =
  | { status: 'invalid'; problems: AnswerProblem[] }
  | ({
      status: 'graded'
      attemptNumber: number
      score: number
      right: number
      total: number
      passed: boolean
      passMark: number
      left: number | null
      mayAttemptAgain: boolean
      questions: GradedQuestion[]
    } & Completion)

/**
 * Grades a quiz attempt and stores it; passing it completes the lesson (and
 * the course, when it was the last). Answers with problems (unanswered,
 * unknown options, two for a single choice) come back as problems and store
 * nothing, nor do a locked lesson, a passed quiz or no attempts left.
 */
export async function submitQuiz(userId: string, slug: string | undefined, lessonId: string | undefined, answers: QuizAnswers, lang?: Language): Promise<QuizSubmission> {
  return db().$transaction(async (tx) => {
    const context = await lessonContext(tx, userId, slug, lessonId, lang)
    const { enrolment, lesson, version } = context
    const quiz = quizOf(lesson)
    if (!quiz) throw new AcademyError('academy.error.noQuiz', 409)
    const state = await quizState(tx, enrolment, lesson.id, version.number, quiz, context.progress.lessons[context.index]?.state === 'done')
    if (state.passed) throw new AcademyError('academy.error.quizPassed', 409)
    if (!state.mayAttempt) throw new AcademyError('academy.error.noAttemptsLeft', 409)
    const problems = answerProblems(quiz, answers)
    if (problems.length > 0) return { status: 'invalid' as const, problems }
    const grade = gradeQuiz(quiz, answers)
    await tx.quizAttempt.create({
      data: {
        enrolmentId: enrolment.id,
        lessonId: lesson.id,
        versionNumber: version.number,
        answers: Object.fromEntries(grade.results.map((r) => [r.questionId, r.chosen])),
        results: Object.fromEntries(grade.results.map((r) => [r.questionId, r.correct])),
        score: grade.score,
        passed: grade.passed,
      },
    })
    let completion: Completion = { courseCompleted: false, certificateCode: null }
    if (grade.passed) {
      await markDone(tx, enrolment.id, lesson.id)
      completion = await completeCourseIfDone(tx, enrolment, context)
    }
    const used = state.used + 1
    return {
      status: 'graded' as const,
      attemptNumber: state.attemptNumber,
      score: grade.score,
      right: grade.right,
      total: grade.total,
      passed: grade.passed,
      passMark: quiz.passMark,
      left: attemptsLeft(quiz, used),
      mayAttemptAgain: mayAttempt(quiz, used, grade.passed),
      questions: grade.results.map((r) => {
        const question = quiz.questions.find((q) => q.id === r.questionId)!
        return { ...r, order: state.order[r.questionId] ?? [], explanation: question.explanation }
      }),
      ...completion,
    }
  })
}

export interface MyCourse {
  courseId: string
  slug: string
  title: Texts
  languages: CourseContent['languages']
  percent: number
  done: number
  total: number
  nextLessonId: string | null
  nextLessonTitle: Texts | null
  lastLessonId: string | null
  started: boolean
  completed: boolean
  completedVersion: number | null
  certificateCode: string | null
  assignedBy: { name: string; organization: string | null } | null
  prerequisitesToDo: { slug: string; title: Texts; languages: CourseContent['languages'] }[]
}

/** The courses a member is enrolled in (by choice or assigned), with their progress; courses no longer published are left out. */
export async function myCourses(userId: string): Promise<MyCourse[]> {
  const enrolments = await db().enrolment.findMany({
    where: { userId },
    include: {
      certificate: { select: { code: true } },
      assignedBy: { select: { name: true } },
      assignedByOrganization: { select: { name: true } },
      lessons: { select: { lessonId: true, completedAt: true } },
      course: { include: { versions: { where: { status: 'PUBLISHED' } } } },
    },
    orderBy: [{ lastSeenAt: { sort: 'desc', nulls: 'last' } }, { enrolledAt: 'desc' }],
  })
  const out: MyCourse[] = []
  for (const enrolment of enrolments) {
    const version = enrolment.course.versions[0]
    if (!version) continue
    const content = parseContent(version.content)
    const progress = courseProgress(content, new Set(enrolment.lessons.filter((l) => l.completedAt).map((l) => l.lessonId)))
    const next = contentLessons(content).find((l) => l.lesson.id === progress.next)?.lesson
    const prerequisites = await prerequisiteStates(userId, content)
    out.push({
      courseId: enrolment.courseId,
      slug: enrolment.course.slug,
      title: content.title,
      languages: content.languages,
      percent: progress.percent,
      done: progress.done,
      total: progress.total,
      nextLessonId: next?.id ?? null,
      nextLessonTitle: next?.title ?? null,
      lastLessonId: enrolment.lastLessonId,
      started: enrolment.lessons.length > 0,
      completed: enrolment.completedAt !== null,
      completedVersion: enrolment.completedVersion,
      certificateCode: enrolment.certificate?.code ?? null,
      assignedBy:
        enrolment.assignedBy || enrolment.assignedByOrganization ? { name: enrolment.assignedBy?.name ?? '', organization: enrolment.assignedByOrganization?.name ?? null } : null,
      prerequisitesToDo: prerequisites.filter((p) => !p.completed).map(({ slug, title, languages }) => ({ slug, title, languages })),
    })
  }
  return out
}

/** What the course page shows one member: their enrolment, lesson states, prerequisites and certificate. */
export async function courseOverview(userId: string, slug: string | undefined) {
  const published = await requirePublishedCourse(slug)
  const content = published.version.parsed
  const enrolment = await db().enrolment.findUnique({
    where: { userId_courseId: { userId, courseId: published.course.id } },
    include: { certificate: { select: { code: true, revokedAt: true } }, assignedBy: { select: { name: true } }, assignedByOrganization: { select: { name: true } } },
  })
  const progress = courseProgress(content, enrolment ? await completedLessonIds(enrolment.id) : new Set())
  return { ...published, enrolment, progress, prerequisites: await prerequisiteStates(userId, content) }
}
