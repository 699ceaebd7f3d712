import {
  contentProblems,
  CourseContent,
  emptyContent,
  optionProblems,
  parseContent,
  type ContentChapter,
  type ContentLesson,
  type ContentProblem,
  type ContentQuestion,
  type ContentQuiz,
  type Language,
  type Texts,
  type toolRecipeIds,
} from '@commons/academy/rules'
import { Prisma, type Course, type CourseVersion, type CourseVersionStatus } from '~/generated/prisma/client'
import type { SavedAttachment } from '../attachments.server'
import { db } from '../db.server'
import type { MessageKey } from '../i18n'
import { AcademyError, contentColumns, publishedPrerequisites, RESERVED_COURSE_SLUGS, type VersionWithContent } from './content.server'

// The trainers' studio: every change to a course's working copy. Each one
// runs in a transaction, names the revision its form was made on (a form made
// before someone else's save is refused, so nobody overwrites a colleague
// unseen), writes the whole content with `contentColumns` and raises the
// revision. Ids of chapters, lessons and questions are made from their titles
// once, when they are created, and never change: members' progress and quiz
// attempts are kept per id, so a new version of a course keeps them.

export type Tx = Prisma.TransactionClient
type ToolRecipeId = (typeof toolRecipeIds)[number]

/** The trainer who acts; every studio page has checked the `trainer` role first. */
export interface StudioActor {
  userId: string
}

/** A text per language as a form sends it; empty strings mean "not written yet". */
export type TextsInput = Partial<Record<Language, string | undefined>>

/** Refused submission or publishing: the content still has these problems. */
export class NotPublishableError extends AcademyError {
  constructor(readonly problems: ContentProblem[]) {
    super('studio.error.notPublishable', 409, { count: problems.length })
    this.name = 'NotPublishableError'
  }
}

export const stale = () => new AcademyError('studio.error.stale', 409)
export const notFound = () => new AcademyError('studio.error.notFound', 404)

// ---------------------------------------------------------------------------
// Reading

/** Every course with its published version and its working copy, for the studio's list. */
export async function studioCourses() {
  const courses = await db().course.findMany({
    orderBy: { createdAt: 'asc' },
    include: { versions: { where: { status: { in: ['DRAFT', 'IN_REVIEW', 'PUBLISHED'] } } } },
  })
  return courses.map(({ versions, ...course }) => ({
    course,
    published: withContentOrNull(versions.find((v) => v.status === 'PUBLISHED')),
    working: withContentOrNull(versions.find((v) => v.status === 'DRAFT' || v.status === 'IN_REVIEW')),
  }))
}

/**
 * One course for the editor: its working copy (what the studio edits), its
 * published version, and the version shown (the working copy, else the
 * published one, read-only). A course id that does not exist is a 404.
 */
export async function studioCourse(courseId: string | undefined) {
  const course = courseId ? await db().course.findUnique({ where: { id: courseId }, include: { versions: true, images: { orderBy: { createdAt: 'asc' } } } }) : null
  if (!course) throw notFound()
  const { versions, images, ...rest } = course
  const published = withContentOrNull(versions.find((v) => v.status === 'PUBLISHED'))
  const working = withContentOrNull(versions.find((v) => v.status === 'DRAFT' || v.status === 'IN_REVIEW'))
  const shown = working ?? published
  // Every course is created with a draft, and discarding one is only allowed once another is published.
  if (!shown) throw notFound()
  return { course: rest, images, published, working, shown, editable: working?.status === 'DRAFT' }
}

/** Problems that stand between this content and publishing, with the prerequisites as published now. */
export async function publishProblems(slug: string, content: CourseContent): Promise<ContentProblem[]> {
  return contentProblems(content, slug, await publishedPrerequisites())
}

/** A lesson and where it is; undefined for an id that is not in the content. */
export function findLesson(content: CourseContent, lessonId: string | undefined) {
  for (const [chapterIndex, chapter] of content.chapters.entries()) {
    const lessonIndex = chapter.lessons.findIndex((l) => l.id === lessonId)
    const lesson = chapter.lessons[lessonIndex]
    if (lesson) return { chapter, chapterIndex, lesson, lessonIndex }
  }
  return undefined
}

function withContentOrNull(version: CourseVersion | undefined): VersionWithContent | null {
  return version ? { ...version, parsed: parseContent(version.content) } : null
}

// ---------------------------------------------------------------------------
// Ids

/**
 * An id made from a title: lowercase letters, digits and dashes, starting with
 * a letter, not one of `taken` (which it joins). Made once; renaming keeps it.
 */
export function idFromTitle(title: string, taken: Set<string>, fallback: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '')
  const stem = /^[a-z]/.test(slug) ? slug : `${fallback}${slug ? `-${slug}` : ''}`.slice(0, 48).replace(/-+$/, '')
  let id = stem
  for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`
  taken.add(id)
  return id
}

/**
 * Chapter, lesson and question ids any version of the course ever used: a
 * lesson removed once and a new one with the same title must not share an id,
 * or the new one would count as done for whoever finished the old one.
 */
async function idsInUse(tx: Tx, courseId: string, current: CourseContent): Promise<Set<string>> {
  const versions = await tx.courseVersion.findMany({ where: { courseId }, select: { content: true } })
  const taken = new Set<string>()
  for (const content of [current, ...versions.map((v) => parseContent(v.content))]) {
    for (const chapter of content.chapters) {
      taken.add(chapter.id)
      for (const lesson of chapter.lessons) {
        taken.add(lesson.id)
        for (const question of lesson.quiz?.questions ?? []) taken.add(question.id)
      }
    }
  }
  return taken
}

// ---------------------------------------------------------------------------
// The one way to change a working copy

interface Change<T> {
  /** The new content, checked against the schema before it is written. */
  content?: CourseContent
  /** Other columns (status, who submitted, …). */
  data?: Prisma.CourseVersionUpdateManyMutationInput
  /** A workflow step worth an audit line. */
  audit?: { action: string; data?: Prisma.InputJsonValue }
  result: T
}

interface Editing {
  tx: Tx
  course: Course
  version: CourseVersion
  content: CourseContent
}

/**
 * Runs `change` on the working copy in `status` made on `revision`: refused
 * (nothing written) when the course is unknown (404), the working copy is in
 * another state or missing (409), or someone saved since (409).
 */
export async function changeWorkingCopy<T>(
  actor: StudioActor,
  courseId: string,
  revision: number,
  status: CourseVersionStatus,
  change: (editing: Editing) => Promise<Change<T>> | Change<T>,
): Promise<T> {
  return db().$transaction(async (tx) => {
    const course = await tx.course.findUnique({ where: { id: courseId } })
    if (!course) throw notFound()
    const version = await tx.courseVersion.findFirst({ where: { courseId, status: { in: ['DRAFT', 'IN_REVIEW'] } } })
    if (!version) throw new AcademyError('studio.error.noDraft', 409)
    if (version.status !== status) throw new AcademyError(version.status === 'IN_REVIEW' ? 'studio.error.inReview' : 'studio.error.notInReview', 409)
    if (version.revision !== revision) throw stale()
    const outcome = await change({ tx, course, version, content: parseContent(version.content) })
    const content = outcome.content ? CourseContent.parse(outcome.content) : undefined
    // The revision in the condition closes the gap between reading and writing: of two saves at once, one wins.
    const { count } = await tx.courseVersion.updateMany({
      where: { id: version.id, revision, status },
      data: { ...(content ? contentColumns(content) : {}), ...outcome.data, revision: { increment: 1 } },
    })
    if (count === 0) throw stale()
    if (outcome.audit) await audit(tx, actor, outcome.audit.action, version.id, { courseId, number: version.number, ...(outcome.audit.data as object | undefined) })
    return outcome.result
  })
}

export function audit(tx: Tx, actor: StudioActor, action: string, versionId: string, data: Prisma.InputJsonObject) {
  return tx.auditEntry.create({ data: { actorId: actor.userId, action, targetType: 'course-version', targetId: versionId, data } })
}

export function editDraft<T = void>(actor: StudioActor, courseId: string, revision: number, change: (editing: Editing) => Promise<Change<T>> | Change<T>) {
  return changeWorkingCopy(actor, courseId, revision, 'DRAFT', change)
}

/** Trimmed texts, without the languages left empty. */
export function cleanTexts(input: TextsInput | undefined): Texts {
  const texts: Texts = {}
  for (const [language, value] of Object.entries(input ?? {}) as [Language, string | undefined][]) {
    const trimmed = value?.trim()
    if (trimmed) texts[language] = trimmed
  }
  return texts
}

/** The first title written in one of the course's languages, else in any. */
function firstText(texts: Texts, languages: readonly Language[]): string | undefined {
  for (const language of languages) if (texts[language]?.trim()) return texts[language]
  return Object.values(texts).find((t) => t?.trim())
}

// ---------------------------------------------------------------------------
// Courses

export const COURSE_SLUG = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){2,59}$/

export interface NewCourse {
  slug: string
  languages: Language[]
  title: TextsInput
}

/** A new course and its first version, an empty draft. */
export async function createCourse(actor: StudioActor, input: NewCourse) {
  const slug = input.slug.trim().toLowerCase()
  if (!COURSE_SLUG.test(slug)) throw new AcademyError('studio.error.slugPattern', 400)
  if (RESERVED_COURSE_SLUGS.has(slug)) throw new AcademyError('studio.error.slugReserved', 400, { slug })
  const languages = [...new Set(input.languages)]
  if (languages.length === 0) throw new AcademyError('studio.error.noLanguage', 400)
  const title = cleanTexts(input.title)
  if (!languages.some((l) => title[l])) throw new AcademyError('studio.error.courseTitle', 400)
  try {
    return await db().$transaction(async (tx) => {
      const course = await tx.course.create({ data: { slug, createdById: actor.userId } })
      const version = await tx.courseVersion.create({
        data: { courseId: course.id, number: 1, status: 'DRAFT', createdById: actor.userId, ...contentColumns(emptyContent(languages, title)) },
      })
      await audit(tx, actor, 'academy.course-created', version.id, { courseId: course.id, slug })
      return { course, version }
    })
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new AcademyError('studio.error.slugTaken', 409, { slug })
    throw error
  }
}

export interface CourseDetails {
  languages: Language[]
  title: TextsInput
  summary: TextsInput
  audience: TextsInput
  toolRecipeId: ToolRecipeId | null
  prerequisites: string[]
  sequential: boolean
}

/**
 * Title, summary, audience, languages, tool and prerequisites (published
 * courses other than this one).
 */
export function saveDetails(actor: StudioActor, courseId: string, revision: number, details: CourseDetails) {
  return editDraft(actor, courseId, revision, async ({ course, content }) => {
    const languages = [...new Set(details.languages)]
    if (languages.length === 0) throw new AcademyError('studio.error.noLanguage', 400)
    const title = cleanTexts(details.title)
    if (!languages.some((l) => title[l])) throw new AcademyError('studio.error.courseTitle', 400)
    const prerequisites = [...new Set(details.prerequisites)]
    if (prerequisites.length) {
      const published = await publishedPrerequisites()
      const unknown = prerequisites.find((slug) => slug === course.slug || !published.has(slug))
      if (unknown) throw new AcademyError('studio.error.prerequisiteUnknown', 400, { slug: unknown })
    }
    return {
      content: {
        ...content,
        languages,
        // The details form shows every supported language, so what it sends is the whole text.
        title,
        summary: cleanTexts(details.summary),
        audience: cleanTexts(details.audience),
        toolRecipeId: details.toolRecipeId,
        prerequisites,
        sequential: details.sequential,
      },
      result: undefined,
    }
  })
}

/** The form's texts for the course's languages, the stored ones for its other languages. */
function keepOthers(stored: Texts, written: Texts, languages: readonly Language[]): Texts {
  const texts: Texts = { ...stored }
  for (const language of languages) {
    if (written[language]) texts[language] = written[language]
    else delete texts[language]
  }
  return texts
}

// ---------------------------------------------------------------------------
// Chapters

export type Direction = 'up' | 'down'

function chapterIndex(content: CourseContent, chapterId: string) {
  const index = content.chapters.findIndex((c) => c.id === chapterId)
  if (index < 0) throw notFound()
  return index
}

function needTitle(texts: Texts, content: CourseContent, key: MessageKey) {
  if (!content.languages.some((l) => texts[l])) throw new AcademyError(key, 400)
}

/** A new chapter at the end; returns its id. */
export function addChapter(actor: StudioActor, courseId: string, revision: number, titleInput: TextsInput) {
  return editDraft(actor, courseId, revision, async ({ tx, content }) => {
    const title = cleanTexts(titleInput)
    needTitle(title, content, 'studio.error.chapterTitle')
    const id = idFromTitle(firstText(title, content.languages) ?? '', await idsInUse(tx, courseId, content), 'chapter')
    const chapter: ContentChapter = { id, title, lessons: [] }
    return { content: { ...content, chapters: [...content.chapters, chapter] }, result: id }
  })
}

export function renameChapter(actor: StudioActor, courseId: string, revision: number, chapterId: string, titleInput: TextsInput) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    const index = chapterIndex(content, chapterId)
    const title = cleanTexts(titleInput)
    needTitle(title, content, 'studio.error.chapterTitle')
    const chapters = content.chapters.map((c, i) => (i === index ? { ...c, title: keepOthers(c.title, title, content.languages) } : c))
    return { content: { ...content, chapters }, result: undefined }
  })
}

export function moveChapter(actor: StudioActor, courseId: string, revision: number, chapterId: string, direction: Direction) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    const index = chapterIndex(content, chapterId)
    return { content: { ...content, chapters: swap(content.chapters, index, direction) }, result: undefined }
  })
}

/** Only an empty chapter goes: lessons are moved or removed one by one, on purpose. */
export function removeChapter(actor: StudioActor, courseId: string, revision: number, chapterId: string) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    const index = chapterIndex(content, chapterId)
    const lessons = content.chapters[index]!.lessons.length
    if (lessons > 0) throw new AcademyError('studio.error.chapterNotEmpty', 409, { count: lessons })
    return { content: { ...content, chapters: content.chapters.filter((_, i) => i !== index) }, result: undefined }
  })
}

function swap<T>(items: readonly T[], index: number, direction: Direction): T[] {
  const other = direction === 'up' ? index - 1 : index + 1
  if (other < 0 || other >= items.length) throw new AcademyError('studio.error.cannotMove', 409)
  const moved = [...items]
  ;[moved[index], moved[other]] = [moved[other]!, moved[index]!]
  return moved
}

// ---------------------------------------------------------------------------
// Lessons

function locate(content: CourseContent, lessonId: string) {
  const found = findLesson(content, lessonId)
  if (!found) throw notFound()
  return found
}

function replaceLesson(content: CourseContent, lessonId: string, replace: (lesson: ContentLesson) => ContentLesson): CourseContent {
  const { chapterIndex: ci, lessonIndex: li } = locate(content, lessonId)
  return {
    ...content,
    chapters: content.chapters.map((c, i) => (i === ci ? { ...c, lessons: c.lessons.map((l, j) => (j === li ? replace(l) : l)) } : c)),
  }
}

/** A new lesson at the end of a chapter, 5 minutes and no text yet; returns its id. */
export function addLesson(actor: StudioActor, courseId: string, revision: number, chapterId: string, titleInput: TextsInput) {
  return editDraft(actor, courseId, revision, async ({ tx, content }) => {
    const index = chapterIndex(content, chapterId)
    const title = cleanTexts(titleInput)
    needTitle(title, content, 'studio.error.lessonTitle')
    const id = idFromTitle(firstText(title, content.languages) ?? '', await idsInUse(tx, courseId, content), 'lesson')
    const lesson: ContentLesson = { id, title, minutes: 5, body: {} }
    const chapters = content.chapters.map((c, i) => (i === index ? { ...c, lessons: [...c.lessons, lesson] } : c))
    return { content: { ...content, chapters }, result: id }
  })
}

export interface LessonText {
  title: TextsInput
  minutes: number
  body: TextsInput
}

export function saveLesson(actor: StudioActor, courseId: string, revision: number, lessonId: string, input: LessonText) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    const title = cleanTexts(input.title)
    needTitle(title, content, 'studio.error.lessonTitle')
    const body = cleanTexts(input.body)
    return {
      content: replaceLesson(content, lessonId, (lesson) => ({
        ...lesson,
        title: keepOthers(lesson.title, title, content.languages),
        minutes: input.minutes,
        body: keepOthers(lesson.body, body, content.languages),
      })),
      result: undefined,
    }
  })
}

/**
 * Up or down within its chapter, over the edge into the chapter before or
 * after; or to the end of another chapter.
 */
export function moveLesson(actor: StudioActor, courseId: string, revision: number, lessonId: string, to: Direction | { chapterId: string }) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    const { chapterIndex: ci, lessonIndex: li, lesson } = locate(content, lessonId)
    const chapters = content.chapters.map((c) => ({ ...c, lessons: [...c.lessons] }))
    const from = chapters[ci]!
    if (typeof to === 'object') {
      const target = chapterIndex(content, to.chapterId)
      if (target === ci) throw new AcademyError('studio.error.cannotMove', 409)
      from.lessons.splice(li, 1)
      chapters[target]!.lessons.push(lesson)
    } else if (to === 'up' && li > 0) {
      from.lessons = swap(from.lessons, li, 'up')
    } else if (to === 'down' && li < from.lessons.length - 1) {
      from.lessons = swap(from.lessons, li, 'down')
    } else {
      const target = to === 'up' ? ci - 1 : ci + 1
      if (target < 0 || target >= chapters.length) throw new AcademyError('studio.error.cannotMove', 409)
      from.lessons.splice(li, 1)
      if (to === 'up') chapters[target]!.lessons.push(lesson)
      else chapters[target]!.lessons.unshift(lesson)
    }
    return { content: { ...content, chapters }, result: undefined }
  })
}

export function removeLesson(actor: StudioActor, courseId: string, revision: number, lessonId: string) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    const { chapterIndex: ci, lessonIndex: li } = locate(content, lessonId)
    const chapters = content.chapters.map((c, i) => (i === ci ? { ...c, lessons: c.lessons.filter((_, j) => j !== li) } : c))
    return { content: { ...content, chapters }, result: undefined }
  })
}

// ---------------------------------------------------------------------------
// Quizzes

export const DEFAULT_QUIZ: Omit<ContentQuiz, 'questions'> = { passMark: 80, attemptLimit: null, shuffle: true }

export interface QuizSettings {
  passMark: number
  /** null: as many attempts as a member likes. */
  attemptLimit: number | null
  shuffle: boolean
}

/** Pass mark, attempts and shuffling; gives the lesson a quiz if it had none. */
export function saveQuizSettings(actor: StudioActor, courseId: string, revision: number, lessonId: string, settings: QuizSettings) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    if (settings.passMark < 0 || settings.passMark > 100 || (settings.attemptLimit !== null && settings.attemptLimit < 1)) throw new AcademyError('studio.error.quizSettings', 400)
    return {
      content: replaceLesson(content, lessonId, (lesson) => ({ ...lesson, quiz: { ...settings, questions: lesson.quiz?.questions ?? [] } })),
      result: undefined,
    }
  })
}

export function removeQuiz(actor: StudioActor, courseId: string, revision: number, lessonId: string) {
  return editDraft(actor, courseId, revision, ({ content }) => {
    if (!locate(content, lessonId).lesson.quiz) throw notFound()
    return { content: replaceLesson(content, lessonId, ({ quiz: _quiz, ...lesson }) => lesson), result: undefined }
  })
}

export interface QuestionInput {
  kind: 'single' | 'multiple'
  prompt: TextsInput
  explanation: TextsInput
  /** `id` names an option the question had already, so answers given to it keep meaning it. */
  options: { id?: string; text: TextsInput; correct: boolean }[]
}

/** The message for the first option rule a question breaks. */
const OPTION_PROBLEM_KEYS = {
  'too-few-options': 'studio.error.tooFewOptions',
  'single-needs-one-correct': 'studio.error.singleNeedsOneCorrect',
  'needs-a-correct-option': 'studio.error.needsCorrectOption',
} as const satisfies Partial<Record<ContentProblem['code'], MessageKey>>

/**
 * Adds a question (no `questionId`) or replaces one. Options without text are
 * dropped; a question that cannot be answered right is refused whole.
 * Returns the question's id.
 */
export function saveQuestion(actor: StudioActor, courseId: string, revision: number, lessonId: string, questionId: string | null, input: QuestionInput) {
  return editDraft(actor, courseId, revision, async ({ tx, content }) => {
    const { lesson } = locate(content, lessonId)
    const existing = questionId ? lesson.quiz?.questions.find((q) => q.id === questionId) : undefined
    if (questionId && !existing) throw notFound()
    const prompt = cleanTexts(input.prompt)
    if (!content.languages.some((l) => prompt[l])) throw new AcademyError('studio.error.questionPrompt', 400)
    const options = questionOptions(input.options, existing)
    const problem = optionProblems({ kind: input.kind, options })[0]
    if (problem) throw new AcademyError(OPTION_PROBLEM_KEYS[problem.code as keyof typeof OPTION_PROBLEM_KEYS] ?? 'studio.error.tooFewOptions', 400)
    const id = existing?.id ?? idFromTitle(firstText(prompt, content.languages) ?? '', await idsInUse(tx, courseId, content), 'question')
    const question: ContentQuestion = {
      id,
      kind: input.kind,
      prompt: existing ? keepOthers(existing.prompt, prompt, content.languages) : prompt,
      options,
      explanation: existing ? keepOthers(existing.explanation, cleanTexts(input.explanation), content.languages) : cleanTexts(input.explanation),
    }
    return {
      content: replaceLesson(content, lessonId, (l) => {
        const quiz = l.quiz ?? { ...DEFAULT_QUIZ, questions: [] }
        const questions = existing ? quiz.questions.map((q) => (q.id === id ? question : q)) : [...quiz.questions, question]
        return { ...l, quiz: { ...quiz, questions } }
      }),
      result: id,
    }
  })
}

// Known option ids stay; new options get the next free `o<n>`.
function questionOptions(input: QuestionInput['options'], existing: ContentQuestion | undefined) {
  const known = new Set(existing?.options.map((o) => o.id) ?? [])
  const used = new Set<string>()
  let next = 1
  const fresh = () => {
    while (known.has(`o${next}`) || used.has(`o${next}`)) next++
    return `o${next}`
  }
  return input
    .map((o) => ({ ...o, text: cleanTexts(o.text) }))
    .filter((o) => Object.keys(o.text).length > 0)
    .map((o) => {
      const id = o.id && known.has(o.id) && !used.has(o.id) ? o.id : fresh()
      used.add(id)
      return { id, text: o.text, correct: o.correct }
    })
}

function replaceQuestions(content: CourseContent, lessonId: string, questionId: string, change: (questions: ContentQuestion[], index: number) => ContentQuestion[]) {
  const { lesson } = locate(content, lessonId)
  const index = lesson.quiz?.questions.findIndex((q) => q.id === questionId) ?? -1
  if (!lesson.quiz || index < 0) throw notFound()
  const questions = change(lesson.quiz.questions, index)
  return replaceLesson(content, lessonId, (l) => ({ ...l, quiz: { ...l.quiz!, questions } }))
}

export function removeQuestion(actor: StudioActor, courseId: string, revision: number, lessonId: string, questionId: string) {
  return editDraft(actor, courseId, revision, ({ content }) => ({
    content: replaceQuestions(content, lessonId, questionId, (questions, index) => questions.filter((_, i) => i !== index)),
    result: undefined,
  }))
}

export function moveQuestion(actor: StudioActor, courseId: string, revision: number, lessonId: string, questionId: string, direction: Direction) {
  return editDraft(actor, courseId, revision, ({ content }) => ({
    content: replaceQuestions(content, lessonId, questionId, (questions, index) => swap(questions, index, direction)),
    result: undefined,
  }))
}

// ---------------------------------------------------------------------------
// Images

/**
 * Records an image the attachment store has already taken (type sniffed,
 * size checked). Only while the course has a draft: images are for lessons
 * being written. No revision: an image changes no content until its snippet
 * is pasted into a lesson and saved.
 */
export async function addCourseImage(actor: StudioActor, courseId: string, file: SavedAttachment, description: string) {
  const alt = description.trim()
  if (!alt) throw new AcademyError('studio.error.imageDescription', 400)
  const course = await db().course.findUnique({ where: { id: courseId }, include: { versions: { where: { status: 'DRAFT' }, select: { id: true } } } })
  if (!course) throw notFound()
  if (course.versions.length === 0) throw new AcademyError('studio.error.noDraft', 409)
  return db().courseImage.create({
    data: {
      courseId,
      storageKey: file.storageKey,
      fileName: file.fileName,
      contentType: file.contentType,
      size: file.size,
      sha256: file.sha256,
      description: alt,
      uploadedById: actor.userId,
    },
  })
}

/** The Markdown a trainer pastes into a lesson to show the image. */
export function imageSnippet(image: { id: string; description: string }): string {
  const alt = image.description.replace(/[[\]\\]/g, (c) => `\\${c}`).replace(/\s+/g, ' ')
  return `![${alt}](/academy/images/${image.id})`
}
