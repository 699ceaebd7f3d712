import { z } from 'zod'
import { lessonsOf as lessonsOfCourse, supportedLanguages, toolRecipeIds, type Language } from './course.ts'
import type { LoadedCourse } from './load.ts'
import { findImages, findRawHtml } from './markdown.ts'

// A course as the portal stores it: one JSON document per course version,
// lessons carrying their Markdown inline. A draft may be incomplete (a lesson
// only in Dutch so far, a chapter without lessons); `contentProblems` says
// what stands between a draft and publishing, in codes the portal translates.

const id = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes').max(60)
/** Text per language; a draft may lack a language or leave it empty. */
const Texts = z.partialRecord(z.enum(supportedLanguages), z.string().max(100_000))

export const ContentOption = z.strictObject({ id, text: Texts, correct: z.boolean() })
export const ContentQuestion = z.strictObject({
  id,
  kind: z.enum(['single', 'multiple']),
  prompt: Texts,
  options: z.array(ContentOption),
  explanation: Texts,
})
export const ContentQuiz = z.strictObject({
  /** Percentage of questions answered right that passes the quiz. */
  passMark: z.number().int().min(0).max(100),
  /** How many times a member may try; null is unlimited. */
  attemptLimit: z.number().int().min(1).nullable(),
  /** Options are shown in an order of their own to each member and attempt. */
  shuffle: z.boolean().default(true),
  questions: z.array(ContentQuestion),
})
export const ContentLesson = z.strictObject({
  id,
  title: Texts,
  minutes: z.number().int().min(1).max(240),
  body: Texts,
  quiz: ContentQuiz.optional(),
})
export const ContentChapter = z.strictObject({ id, title: Texts, lessons: z.array(ContentLesson) })
export const CourseContent = z.strictObject({
  languages: z.array(z.enum(supportedLanguages)).min(1),
  title: Texts,
  summary: Texts,
  audience: Texts,
  /** The catalog tool this course onboards to; its members are offered it once the tool is ready. */
  toolRecipeId: z.enum(toolRecipeIds).nullable().default(null),
  /** Slugs of courses a member completes first. */
  prerequisites: z.array(id).default([]),
  /** Lessons open one after the other, each once the one before is done. */
  sequential: z.boolean().default(true),
  chapters: z.array(ContentChapter),
})

export type CourseContent = z.infer<typeof CourseContent>
export type ContentChapter = z.infer<typeof ContentChapter>
export type ContentLesson = z.infer<typeof ContentLesson>
export type ContentQuiz = z.infer<typeof ContentQuiz>
export type ContentQuestion = z.infer<typeof ContentQuestion>
export type ContentOption = z.infer<typeof ContentOption>
export type Texts = z.infer<typeof Texts>

/** Parses stored JSON; a document that does not parse is a bug, not user input. */
export function parseContent(json: unknown): CourseContent {
  return CourseContent.parse(json)
}

/** An empty course in the given languages, as a new draft starts. */
export function emptyContent(languages: readonly Language[], title: Texts): CourseContent {
  return { languages: [...languages], title, summary: {}, audience: {}, toolRecipeId: null, prerequisites: [], sequential: true, chapters: [] }
}

/** Every lesson in order, with its chapter and its place (0-based) in the course. */
export function contentLessons(content: CourseContent): { chapter: ContentChapter; lesson: ContentLesson; index: number }[] {
  let index = 0
  return content.chapters.flatMap((chapter) => chapter.lessons.map((lesson) => ({ chapter, lesson, index: index++ })))
}

/**
 * The text in `language`, else in the course's other languages in order, else
 * an empty string: a member always sees something, a trainer sees what is missing
 * through `contentProblems`.
 */
export function textIn(texts: Texts | undefined, language: Language, fallbacks: readonly Language[] = supportedLanguages): string {
  const wanted = texts?.[language]?.trim()
  if (wanted) return texts![language]!
  for (const other of fallbacks) {
    if (texts?.[other]?.trim()) return texts[other]!
  }
  return ''
}

/** The language a member reads a course in: theirs if the course has it, else the course's first. */
export function readingLanguage(content: Pick<CourseContent, 'languages'>, wanted: Language): Language {
  return content.languages.includes(wanted) ? wanted : (content.languages[0] ?? wanted)
}

/** A starter course from its folder, as stored content. */
export function contentFromFolder(loaded: LoadedCourse): CourseContent {
  const { course, lessons } = loaded
  return CourseContent.parse({
    languages: course.languages,
    title: course.title,
    summary: course.summary,
    audience: course.audience,
    toolRecipeId: course.toolRecipeId ?? null,
    prerequisites: course.prerequisites,
    sequential: true,
    chapters: course.chapters.map((chapter) => ({
      id: chapter.id,
      title: chapter.title,
      lessons: chapter.lessons.map((lesson) => ({
        id: lesson.id,
        title: lesson.title,
        minutes: lesson.minutes,
        body: lessons.get(lesson.id) ?? {},
        ...(lesson.quiz ? { quiz: { ...lesson.quiz, shuffle: true } } : {}),
      })),
    })),
  })
}

/** Lesson count of a loaded course, for the seed's report. */
export const folderLessonCount = (loaded: LoadedCourse) => lessonsOfCourse(loaded.course).length

/** Where in a course a problem is. */
export type ProblemPlace = { chapterId?: string; lessonId?: string; questionId?: string }

/** Why a draft cannot be published yet; `code` is translated by the portal. */
export type ContentProblem =
  | { code: 'missing-text'; field: 'title' | 'summary' | 'audience' | 'body' | 'prompt' | 'explanation' | 'option'; language: Language; place: ProblemPlace }
  | { code: 'no-chapters'; place: ProblemPlace }
  | { code: 'empty-chapter'; place: ProblemPlace }
  | { code: 'empty-quiz'; place: ProblemPlace }
  | { code: 'too-few-options'; place: ProblemPlace }
  | { code: 'single-needs-one-correct'; correct: number; place: ProblemPlace }
  | { code: 'needs-a-correct-option'; place: ProblemPlace }
  | { code: 'raw-html'; language: Language; line: number; place: ProblemPlace }
  | { code: 'external-image'; language: Language; line: number; target: string; place: ProblemPlace }
  | { code: 'prerequisite-unknown'; slug: string; place: ProblemPlace }
  | { code: 'prerequisite-cycle'; cycle: string[]; place: ProblemPlace }

/** Images a lesson may show: those uploaded with the course, served by the portal. */
export const LESSON_IMAGE_PATH = /^\/academy\/images\/[a-z0-9]{10,40}$/

/**
 * Everything that stands between a draft and publishing: every text in every
 * language of the course, a chapter and lesson at least, quizzes with options
 * that can be answered right, lesson Markdown without raw HTML and with only
 * the course's own images, prerequisites that exist (`knownCourses`: slug →
 * its published prerequisites) and form no cycle. Empty means publishable.
 */
export function contentProblems(content: CourseContent, slug: string, knownCourses: ReadonlyMap<string, readonly string[]>): ContentProblem[] {
  const problems: ContentProblem[] = []
  const need = (texts: Texts, field: Extract<ContentProblem, { code: 'missing-text' }>['field'], place: ProblemPlace) => {
    for (const language of content.languages) {
      if (!texts[language]?.trim()) problems.push({ code: 'missing-text', field, language, place })
    }
  }
  need(content.title, 'title', {})
  need(content.summary, 'summary', {})
  need(content.audience, 'audience', {})
  if (content.chapters.length === 0) problems.push({ code: 'no-chapters', place: {} })
  for (const chapter of content.chapters) {
    const inChapter = { chapterId: chapter.id }
    need(chapter.title, 'title', inChapter)
    if (chapter.lessons.length === 0) problems.push({ code: 'empty-chapter', place: inChapter })
    for (const lesson of chapter.lessons) {
      const inLesson = { ...inChapter, lessonId: lesson.id }
      need(lesson.title, 'title', inLesson)
      need(lesson.body, 'body', inLesson)
      for (const language of content.languages) {
        const body = lesson.body[language] ?? ''
        for (const html of findRawHtml(body)) problems.push({ code: 'raw-html', language, line: html.line, place: inLesson })
        for (const image of findImages(body)) {
          if (!LESSON_IMAGE_PATH.test(image.target)) problems.push({ code: 'external-image', language, line: image.line, target: image.target, place: inLesson })
        }
      }
      if (!lesson.quiz) continue
      if (lesson.quiz.questions.length === 0) problems.push({ code: 'empty-quiz', place: inLesson })
      for (const question of lesson.quiz.questions) {
        const inQuestion = { ...inLesson, questionId: question.id }
        need(question.prompt, 'prompt', inQuestion)
        need(question.explanation, 'explanation', inQuestion)
        for (const option of question.options) need(option.text, 'option', inQuestion)
        problems.push(...optionProblems(question, inQuestion))
      }
    }
  }
  for (const p of content.prerequisites) {
    if (p === slug || !knownCourses.has(p)) problems.push({ code: 'prerequisite-unknown', slug: p, place: {} })
  }
  const cycle = prerequisiteCycle(slug, content.prerequisites, knownCourses)
  if (cycle) problems.push({ code: 'prerequisite-cycle', cycle, place: {} })
  return problems
}

/** The option rules of one question; also checked when a trainer saves the question. */
export function optionProblems(question: Pick<ContentQuestion, 'kind' | 'options'>, place: ProblemPlace = {}): ContentProblem[] {
  if (question.options.length < 2) return [{ code: 'too-few-options', place }]
  const correct = question.options.filter((o) => o.correct).length
  if (question.kind === 'single' && correct !== 1) return [{ code: 'single-needs-one-correct', correct, place }]
  if (question.kind === 'multiple' && correct === 0) return [{ code: 'needs-a-correct-option', place }]
  return []
}

// A cycle through this course, if its new prerequisites would close one.
function prerequisiteCycle(slug: string, prerequisites: readonly string[], known: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const graph = new Map(known)
  graph.set(slug, prerequisites)
  const path: string[] = []
  const onPath = new Set<string>()
  const done = new Set<string>()
  const visit = (node: string): string[] | undefined => {
    if (onPath.has(node)) return [...path.slice(path.indexOf(node)), node]
    if (done.has(node)) return undefined
    path.push(node)
    onPath.add(node)
    for (const next of graph.get(node) ?? []) {
      const found = visit(next)
      if (found) return found
    }
    path.pop()
    onPath.delete(node)
    done.add(node)
    return undefined
  }
  const found = visit(slug)
  return found && found.includes(slug) ? found : undefined
}
