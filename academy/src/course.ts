import { z } from 'zod'

// A course is data: a course.yaml with its chapters, lessons and quizzes, and
// one Markdown file per lesson and language. The portal shows it; the loader
// (load.ts) checks that the files behind it exist and are safe to render.

export const supportedLanguages = ['nl', 'en'] as const
export type Language = (typeof supportedLanguages)[number]

/** Catalog recipe ids a course may onboard to (see catalog/recipes). */
export const toolRecipeIds = ['nextcloud', 'matrix', 'loomio', 'discourse'] as const

const slugPattern = /^[a-z][a-z0-9-]*$/
const semverPattern = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/
// Relative, inside the course folder, ending in .md: "lessons/01-files.nl.md".
const lessonFilePattern = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+\.md$/

const nonEmpty = z.string().trim().min(1, 'must not be empty')
const id = z.string().regex(slugPattern, 'must be lowercase letters, digits and dashes')

/** A text per language. Which languages must be present is checked against the course's `languages`. */
const Localized = z.partialRecord(z.enum(supportedLanguages), nonEmpty)
const LessonFiles = z.partialRecord(
  z.enum(supportedLanguages),
  z.string().regex(lessonFilePattern, 'must be a relative path to a .md file inside the course folder'),
)

const Option = z.strictObject({
  id,
  text: Localized,
  correct: z.boolean(),
})

const Question = z.strictObject({
  id,
  kind: z.enum(['single', 'multiple']),
  prompt: Localized,
  options: z.array(Option).min(2, 'a question needs at least 2 options'),
  explanation: Localized,
})

const Quiz = z.strictObject({
  /** Percentage of questions answered right that passes the quiz. */
  passMark: z.number().int().min(0).max(100),
  /** How many times a member may try; null is unlimited. */
  attemptLimit: z.number().int().min(1).nullable(),
  questions: z.array(Question).min(1, 'a quiz needs at least 1 question'),
})

const Lesson = z.strictObject({
  id,
  title: Localized,
  minutes: z.number().int().min(1).max(120),
  file: LessonFiles,
  quiz: Quiz.optional(),
})

const Chapter = z.strictObject({
  id,
  title: Localized,
  lessons: z.array(Lesson).min(1, 'a chapter needs at least 1 lesson'),
})

const CourseShape = z.strictObject({
  slug: id,
  version: z.string().regex(semverPattern, 'must be a semver version, e.g. "1.0.0"'),
  toolRecipeId: z.enum(toolRecipeIds).optional(),
  languages: z.array(z.enum(supportedLanguages)).min(1, 'a course needs at least 1 language'),
  title: Localized,
  summary: Localized,
  audience: Localized,
  prerequisites: z.array(id).default([]),
  chapters: z.array(Chapter).min(1, 'a course needs at least 1 chapter'),
})

export const Course = CourseShape.superRefine(checkCourse)
export type Course = z.infer<typeof CourseShape>
export type Chapter = Course['chapters'][number]
export type Lesson = Chapter['lessons'][number]
export type Quiz = NonNullable<Lesson['quiz']>
export type Question = Quiz['questions'][number]

type Path = (string | number)[]
type Ctx = z.core.$RefinementCtx<z.output<typeof CourseShape>>

// Rules that span fields: languages present everywhere, ids unique, right
// number of correct options.
function checkCourse(course: Course, ctx: Ctx): void {
  const issue = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message })
  const languages = course.languages
  const seenLanguages = new Set<string>()
  languages.forEach((l, i) => {
    if (seenLanguages.has(l)) issue(['languages', i], `duplicate language "${l}"`)
    seenLanguages.add(l)
  })
  const requireLanguages = (texts: Partial<Record<Language, string>>, path: Path) => {
    for (const l of languages) if (texts[l] === undefined) issue(path, `missing language "${l}"`)
    for (const l of Object.keys(texts)) {
      if (!seenLanguages.has(l)) issue(path, `language "${l}" is not in the course's languages`)
    }
  }
  requireLanguages(course.title, ['title'])
  requireLanguages(course.summary, ['summary'])
  requireLanguages(course.audience, ['audience'])

  if (course.prerequisites.includes(course.slug)) issue(['prerequisites'], 'a course cannot be its own prerequisite')
  unique(course.prerequisites, (p) => p, ['prerequisites'], 'prerequisite', issue)

  unique(course.chapters, (c) => c.id, ['chapters'], 'chapter id', issue)
  // Lesson ids are unique across the course: progress is kept per course and lesson.
  unique(
    course.chapters.flatMap((c, i) => c.lessons.map((l, j) => ({ l, path: ['chapters', i, 'lessons', j] as Path }))),
    (x) => x.l.id,
    [],
    'lesson id',
    issue,
    (x) => x.path,
  )
  course.chapters.forEach((chapter, i) => {
    requireLanguages(chapter.title, ['chapters', i, 'title'])
    chapter.lessons.forEach((lesson, j) => {
      const at: Path = ['chapters', i, 'lessons', j]
      requireLanguages(lesson.title, [...at, 'title'])
      requireLanguages(lesson.file, [...at, 'file'])
      if (!lesson.quiz) return
      const quizAt: Path = [...at, 'quiz', 'questions']
      unique(lesson.quiz.questions, (q) => q.id, quizAt, 'question id', issue)
      lesson.quiz.questions.forEach((question, k) => {
        const q: Path = [...quizAt, k]
        requireLanguages(question.prompt, [...q, 'prompt'])
        requireLanguages(question.explanation, [...q, 'explanation'])
        unique(question.options, (o) => o.id, [...q, 'options'], 'option id', issue)
        question.options.forEach((o, m) => requireLanguages(o.text, [...q, 'options', m, 'text']))
        const correct = question.options.filter((o) => o.correct).length
        if (question.kind === 'single' && correct !== 1) {
          issue([...q, 'options'], `a single-choice question needs exactly 1 correct option, not ${correct}`)
        }
        if (question.kind === 'multiple' && correct < 1) {
          issue([...q, 'options'], 'a multiple-choice question needs at least 1 correct option, not 0')
        }
      })
    })
  })
}

function unique<T>(
  items: readonly T[],
  key: (item: T) => string,
  path: Path,
  what: string,
  issue: (path: Path, message: string) => void,
  pathOf: (item: T, index: number) => Path = (_, i) => [...path, i],
): void {
  const seen = new Set<string>()
  items.forEach((item, i) => {
    const k = key(item)
    if (seen.has(k)) issue(pathOf(item, i), `duplicate ${what} "${k}"`)
    seen.add(k)
  })
}

/**
 * Names a place in a course by the ids a trainer wrote, not array indexes:
 * `chapter "files" › lesson "sharing" › quiz › question "q-link" › options`.
 * `input` is the raw course, so it works on courses that failed to parse too.
 */
export function describePath(input: unknown, path: readonly PropertyKey[]): string {
  const names: Record<string, string> = { chapters: 'chapter', lessons: 'lesson', questions: 'question', options: 'option' }
  const parts: string[] = []
  let node: unknown = input
  for (let i = 0; i < path.length; i++) {
    const key = path[i]
    const next = path[i + 1]
    const child = isRecord(node) || Array.isArray(node) ? (node as Record<PropertyKey, unknown>)[key as string] : undefined
    if (typeof key === 'string' && key in names && typeof next === 'number') {
      const element = Array.isArray(child) ? child[next] : undefined
      const elementId = isRecord(element) && typeof element.id === 'string' ? `"${element.id}"` : `#${next + 1}`
      parts.push(`${names[key]} ${elementId}`)
      node = element
      i++
      continue
    }
    parts.push(typeof key === 'number' ? `#${key + 1}` : String(key))
    node = child
  }
  return parts.length === 0 ? '(course)' : parts.join(' › ')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Validates one course object; returns its problems as "where: message". */
export function validateCourse(input: unknown): { course: Course; problems: [] } | { course?: undefined; problems: string[] } {
  const result = Course.safeParse(input)
  if (result.success) return { course: result.data, problems: [] }
  return { problems: result.error.issues.map((i) => `${describePath(input, i.path)}: ${i.message}`) }
}

/** Every lesson of a course, in order, with the chapter it belongs to. */
export function lessonsOf(course: Course): { chapter: Chapter; lesson: Lesson }[] {
  return course.chapters.flatMap((chapter) => chapter.lessons.map((lesson) => ({ chapter, lesson })))
}
