import { contentLessons, type ContentOption, type ContentQuiz, type CourseContent } from './content.ts'

// The rules of learning, without a database: which lessons are done, open or
// locked, how a quiz is graded, how many attempts are left, and the order in
// which a member sees the options. The portal stores what happened; these
// functions say what it means.

export type LessonState = 'done' | 'open' | 'locked'

export type LessonProgressView = { lessonId: string; chapterId: string; index: number; state: LessonState; hasQuiz: boolean }

export type CourseProgress = {
  lessons: LessonProgressView[]
  done: number
  total: number
  /** Whole percent of the course's current lessons done. */
  percent: number
  /** Every lesson of this version is done. */
  complete: boolean
  /** Where to go on: the first open lesson not done yet, or null when complete. */
  next: string | null
}

/**
 * Progress through a course's current version. Progress is kept per lesson id,
 * so it survives a new version: lessons that are gone no longer count, new
 * ones are still to do. With `sequential`, a lesson opens once every lesson
 * before it is done; a lesson done stays open.
 */
export function courseProgress(content: CourseContent, completed: ReadonlySet<string>): CourseProgress {
  let allBeforeDone = true
  const lessons = contentLessons(content).map(({ chapter, lesson, index }): LessonProgressView => {
    const isDone = completed.has(lesson.id)
    const state: LessonState = isDone ? 'done' : !content.sequential || allBeforeDone ? 'open' : 'locked'
    if (!isDone) allBeforeDone = false
    return { lessonId: lesson.id, chapterId: chapter.id, index, state, hasQuiz: Boolean(lesson.quiz && lesson.quiz.questions.length > 0) }
  })
  const done = lessons.filter((l) => l.state === 'done').length
  const total = lessons.length
  return {
    lessons,
    done,
    total,
    percent: total === 0 ? 0 : Math.floor((done / total) * 100),
    complete: total > 0 && done === total,
    next: lessons.find((l) => l.state === 'open')?.lessonId ?? null,
  }
}

/** May this lesson be opened (read, answered, completed) now? */
export function isLessonOpen(progress: CourseProgress, lessonId: string): boolean {
  const lesson = progress.lessons.find((l) => l.lessonId === lessonId)
  return lesson !== undefined && lesson.state !== 'locked'
}

/** Option ids chosen per question id, as a form sends them. */
export type QuizAnswers = Readonly<Record<string, readonly string[]>>

export type QuestionResult = { questionId: string; correct: boolean; chosen: string[]; correctOptions: string[] }

export type QuizGrade = { score: number; right: number; total: number; passed: boolean; results: QuestionResult[] }

/**
 * The options chosen for one question. Only the answers' own keys count: a
 * question id may be any lowercase word, and `answers['constructor']` on a
 * plain object is a function, not "unanswered".
 */
function chosenFor(answers: QuizAnswers, questionId: string): readonly string[] {
  const chosen = Object.hasOwn(answers, questionId) ? answers[questionId] : undefined
  return Array.isArray(chosen) ? chosen : []
}

export type AnswerProblem = { code: 'unanswered'; questionId: string } | { code: 'one-answer-only'; questionId: string } | { code: 'unknown-option'; questionId: string }

/**
 * What is wrong with a set of answers before it is graded: every question
 * answered, one option for a single-choice question, only options that exist.
 * Answers to questions the quiz does not have are ignored.
 */
export function answerProblems(quiz: ContentQuiz, answers: QuizAnswers): AnswerProblem[] {
  const problems: AnswerProblem[] = []
  for (const question of quiz.questions) {
    const chosen = chosenFor(answers, question.id)
    const known = new Set(question.options.map((o) => o.id))
    if (chosen.length === 0) problems.push({ code: 'unanswered', questionId: question.id })
    else if (chosen.some((c) => !known.has(c))) problems.push({ code: 'unknown-option', questionId: question.id })
    else if (question.kind === 'single' && new Set(chosen).size > 1) problems.push({ code: 'one-answer-only', questionId: question.id })
  }
  return problems
}

/**
 * Grades answers (checked by `answerProblems` first). A question is right when
 * exactly its correct options were chosen: no partial credit, so guessing every
 * option of a multiple-choice question does not pay. The score is the whole
 * percentage of questions right, rounded down; it passes at the pass mark.
 */
export function gradeQuiz(quiz: ContentQuiz, answers: QuizAnswers): QuizGrade {
  const results = quiz.questions.map((question): QuestionResult => {
    const chosen = [...new Set(chosenFor(answers, question.id))].sort()
    const correctOptions = question.options.filter((o) => o.correct).map((o) => o.id).sort()
    const correct = chosen.length === correctOptions.length && chosen.every((c, i) => c === correctOptions[i])
    return { questionId: question.id, correct, chosen, correctOptions }
  })
  const right = results.filter((r) => r.correct).length
  const total = results.length
  const score = total === 0 ? 0 : Math.floor((right * 100) / total)
  return { score, right, total, passed: total > 0 && score >= quiz.passMark, results }
}

/** Attempts left, or null when there is no limit. */
export function attemptsLeft(quiz: Pick<ContentQuiz, 'attemptLimit'>, used: number): number | null {
  return quiz.attemptLimit === null ? null : Math.max(0, quiz.attemptLimit - used)
}

/** May a member try the quiz (again)? Not once passed, not past the limit. */
export function mayAttempt(quiz: Pick<ContentQuiz, 'attemptLimit'>, used: number, passed: boolean): boolean {
  if (passed) return false
  const left = attemptsLeft(quiz, used)
  return left === null || left > 0
}

/**
 * The options in the order one member sees them in one attempt: shuffled by a
 * seed (member, lesson, attempt number), so a reload shows the same order and
 * the next attempt another one.
 */
export function shuffledOptions<T extends Pick<ContentOption, 'id'>>(options: readonly T[], seed: string): T[] {
  const random = mulberry32(fnv1a(seed))
  const out = [...options]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
