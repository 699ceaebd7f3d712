import { parseContent } from '@commons/academy/rules'
import { parseWithZod } from '@conform-to/zod/v4'
import { afterAll, describe, expect, it } from 'vitest'
import { db, disconnectDb } from '../db.server'
import { AcademyError, publishedVersion, workingCopy } from './content.server'
import {
  addChapter,
  addCourseImage,
  addLesson,
  createCourse,
  idFromTitle,
  imageSnippet,
  moveChapter,
  moveLesson,
  moveQuestion,
  NotPublishableError,
  removeChapter,
  removeLesson,
  removeQuestion,
  renameChapter,
  saveDetails,
  saveLesson,
  saveQuestion,
  saveQuizSettings,
  studioCourse,
  type StudioActor,
} from './studio.server'
import { deleteUnpublishedCourse, discardDraft, publish, requestChanges, startNewDraft, submitForReview } from './studio-workflow.server'
import { newCourseSchema, questionSchema } from './studio-forms'

// Real Postgres from the test harness. Every course made here has a slug
// with this run's tag, and is deleted afterwards with its versions.

const unique = Date.now().toString(36)
let n = 0
const made = { users: [] as string[], courses: [] as string[] }

async function trainer(): Promise<StudioActor> {
  const tag = `trainer-${unique}-${++n}`
  const user = await db().user.create({ data: { keycloakId: `test-${tag}`, email: `${tag}@studio.test`, name: `Tessa ${tag}`, locale: 'en', realmRoles: ['trainer'] } })
  made.users.push(user.id)
  return { userId: user.id }
}

async function newCourse(actor: StudioActor, languages: ('nl' | 'en')[] = ['nl', 'en']) {
  const { course, version } = await createCourse(actor, { slug: `studio-${unique}-${++n}`, languages, title: { nl: 'Werken met bestanden', en: 'Working with files' } })
  made.courses.push(course.id)
  return { course, revision: version.revision }
}

const revisionOf = async (courseId: string) => (await workingCopy(courseId))!.revision
const contentOf = async (courseId: string) => (await workingCopy(courseId))!.parsed

/** Rejects with an AcademyError with this key (and status). */
async function refused(promise: Promise<unknown>, key: string, status?: number) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AcademyError)
  expect((error as AcademyError).key).toBe(key)
  if (status) expect((error as AcademyError).status).toBe(status)
  return error as AcademyError
}

/** A course that can be published: both languages written, one chapter, one lesson with a quiz. */
async function completeCourse(actor: StudioActor) {
  const { course } = await newCourse(actor)
  const id = course.id
  await saveDetails(actor, id, await revisionOf(id), {
    languages: ['nl', 'en'],
    title: { nl: 'Werken met bestanden', en: 'Working with files' },
    summary: { nl: 'Samenvatting', en: 'Summary' },
    audience: { nl: 'Iedereen', en: 'Everyone' },
    toolRecipeId: 'nextcloud',
    prerequisites: [],
    sequential: true,
  })
  const chapterId = await addChapter(actor, id, await revisionOf(id), { nl: 'Beginnen', en: 'Getting started' })
  const lessonId = await addLesson(actor, id, await revisionOf(id), chapterId, { nl: 'Inloggen', en: 'Signing in' })
  await saveLesson(actor, id, await revisionOf(id), lessonId, { title: { nl: 'Inloggen', en: 'Signing in' }, minutes: 7, body: { nl: '# Hallo', en: '# Hello' } })
  const questionId = await saveQuestion(actor, id, await revisionOf(id), lessonId, null, {
    kind: 'single',
    prompt: { nl: 'Waar log je in?', en: 'Where do you sign in?' },
    explanation: { nl: 'Op het portaal.', en: 'At the portal.' },
    options: [
      { text: { nl: 'Portaal', en: 'Portal' }, correct: true },
      { text: { nl: 'Elders', en: 'Elsewhere' }, correct: false },
    ],
  })
  return { course, chapterId, lessonId, questionId }
}

afterAll(async () => {
  await db().auditEntry.deleteMany({ where: { actorId: { in: made.users } } })
  await db().course.deleteMany({ where: { id: { in: made.courses } } })
  await db().user.deleteMany({ where: { id: { in: made.users } } })
  await disconnectDb()
})

describe('ids', () => {
  it('are made from titles once: lowercase, without accents, starting with a letter, unique', () => {
    const taken = new Set<string>()
    expect(idFromTitle('Één bestand delen!', taken, 'lesson')).toBe('een-bestand-delen')
    expect(idFromTitle('Één bestand delen', taken, 'lesson')).toBe('een-bestand-delen-2')
    expect(idFromTitle('2 factoren', taken, 'lesson')).toBe('lesson-2-factoren')
    expect(idFromTitle('???', taken, 'question')).toBe('question')
  })
})

describe('courses', () => {
  it('creates a course with an empty first draft and an audit line', async () => {
    const actor = await trainer()
    const { course } = await newCourse(actor)
    const draft = await workingCopy(course.id)
    expect(draft).toMatchObject({ number: 1, status: 'DRAFT', revision: 1, languages: ['nl', 'en'], createdById: actor.userId })
    expect(draft!.parsed.title).toEqual({ nl: 'Werken met bestanden', en: 'Working with files' })
    expect(await db().auditEntry.count({ where: { action: 'academy.course-created', actorId: actor.userId } })).toBe(1)
  })

  it('refuses a taken, reserved or malformed slug and a course without a title', async () => {
    const actor = await trainer()
    const { course } = await newCourse(actor)
    await refused(createCourse(actor, { slug: course.slug, languages: ['nl'], title: { nl: 'Nog een' } }), 'studio.error.slugTaken', 409)
    await refused(createCourse(actor, { slug: 'manage', languages: ['nl'], title: { nl: 'Beheer' } }), 'studio.error.slugReserved', 400)
    await refused(createCourse(actor, { slug: 'Niet Goed', languages: ['nl'], title: { nl: 'x' } }), 'studio.error.slugPattern', 400)
    await refused(createCourse(actor, { slug: `notitle-${unique}`, languages: ['en'], title: { nl: 'Alleen Nederlands' } }), 'studio.error.courseTitle', 400)
    expect(await db().course.count({ where: { slug: { in: ['manage', `notitle-${unique}`] } } })).toBe(0)
  })

  it('saves details, refuses an unknown prerequisite, and refuses a stale form without changing anything', async () => {
    const actor = await trainer()
    const { course, revision } = await newCourse(actor)
    const details = { languages: ['nl' as const], title: { nl: 'Bestanden' }, summary: { nl: 'Kort' }, audience: {}, toolRecipeId: 'nextcloud' as const, prerequisites: [], sequential: false }
    await saveDetails(actor, course.id, revision, details)
    const saved = await workingCopy(course.id)
    expect(saved).toMatchObject({ revision: 2, toolRecipeId: 'nextcloud', languages: ['nl'] })
    expect(saved!.parsed).toMatchObject({ sequential: false, summary: { nl: 'Kort' }, audience: {} })

    const stale = await refused(saveDetails(actor, course.id, revision, { ...details, title: { nl: 'Overschreven' } }), 'studio.error.stale', 409)
    expect(stale.status).toBe(409)
    await refused(saveDetails(actor, course.id, 2, { ...details, prerequisites: [`nope-${unique}`] }), 'studio.error.prerequisiteUnknown', 400)
    expect(await workingCopy(course.id)).toMatchObject({ revision: 2, parsed: { title: { nl: 'Bestanden' }, prerequisites: [] } })
  })

  it('answers 404 for a course that does not exist', async () => {
    const actor = await trainer()
    await refused(saveDetails(actor, 'c-does-not-exist', 1, { languages: ['nl'], title: { nl: 'x' }, summary: {}, audience: {}, toolRecipeId: null, prerequisites: [], sequential: true }), 'studio.error.notFound', 404)
    await refused(studioCourse('c-does-not-exist'), 'studio.error.notFound', 404)
  })
})

describe('chapters and lessons', () => {
  it('adds, renames, moves and removes chapters; a chapter with lessons stays', async () => {
    const actor = await trainer()
    const { course } = await newCourse(actor)
    const id = course.id
    const first = await addChapter(actor, id, await revisionOf(id), { nl: 'Eerste', en: 'First' })
    const second = await addChapter(actor, id, await revisionOf(id), { nl: 'Tweede' })
    expect([first, second]).toEqual(['eerste', 'tweede'])
    await renameChapter(actor, id, await revisionOf(id), first, { nl: 'Begin', en: 'Start' })
    await moveChapter(actor, id, await revisionOf(id), second, 'up')
    let content = await contentOf(id)
    expect(content.chapters.map((c) => c.id)).toEqual(['tweede', 'eerste'])
    expect(content.chapters[1]!.title).toEqual({ nl: 'Begin', en: 'Start' })
    await refused(moveChapter(actor, id, await revisionOf(id), second, 'up'), 'studio.error.cannotMove', 409)

    await addLesson(actor, id, await revisionOf(id), first, { en: 'A lesson' })
    const before = await revisionOf(id)
    await refused(removeChapter(actor, id, before, first), 'studio.error.chapterNotEmpty', 409)
    await removeChapter(actor, id, before, second)
    content = await contentOf(id)
    expect(content.chapters.map((c) => c.id)).toEqual(['eerste'])
  })

  it('refuses a lesson without a title in one of the course languages, and saves nothing', async () => {
    const actor = await trainer()
    const { course } = await newCourse(actor, ['nl'])
    const chapter = await addChapter(actor, course.id, await revisionOf(course.id), { nl: 'Hoofdstuk' })
    const revision = await revisionOf(course.id)
    await refused(addLesson(actor, course.id, revision, chapter, { nl: '   ' }), 'studio.error.lessonTitle', 400)
    await refused(addLesson(actor, course.id, revision, chapter, { en: 'Only English' }), 'studio.error.lessonTitle', 400)
    expect(await revisionOf(course.id)).toBe(revision)
    expect((await contentOf(course.id)).chapters[0]!.lessons).toEqual([])
  })

  it('saves a lesson per language, keeps its id when the title changes, moves it across chapters and removes it', async () => {
    const actor = await trainer()
    const { course } = await newCourse(actor)
    const id = course.id
    const one = await addChapter(actor, id, await revisionOf(id), { nl: 'Een' })
    const two = await addChapter(actor, id, await revisionOf(id), { nl: 'Twee' })
    const a = await addLesson(actor, id, await revisionOf(id), one, { nl: 'Bestanden delen' })
    const b = await addLesson(actor, id, await revisionOf(id), one, { nl: 'Bestanden delen' })
    expect([a, b]).toEqual(['bestanden-delen', 'bestanden-delen-2'])
    await saveLesson(actor, id, await revisionOf(id), a, { title: { nl: 'Delen met anderen', en: 'Sharing' }, minutes: 12, body: { nl: 'Tekst', en: '' } })
    let content = await contentOf(id)
    expect(content.chapters[0]!.lessons[0]).toMatchObject({ id: a, title: { nl: 'Delen met anderen', en: 'Sharing' }, minutes: 12, body: { nl: 'Tekst' } })

    await moveLesson(actor, id, await revisionOf(id), b, 'down')
    content = await contentOf(id)
    expect(content.chapters.map((c) => c.lessons.map((l) => l.id))).toEqual([[a], [b]])
    await moveLesson(actor, id, await revisionOf(id), b, { chapterId: one })
    content = await contentOf(id)
    expect(content.chapters.map((c) => c.lessons.map((l) => l.id))).toEqual([[a, b], []])
    await moveLesson(actor, id, await revisionOf(id), a, 'down')
    expect((await contentOf(id)).chapters[0]!.lessons.map((l) => l.id)).toEqual([b, a])

    await removeLesson(actor, id, await revisionOf(id), b)
    // A new lesson with the title of a removed one gets an id of its own: nobody's progress moves over.
    const again = await addLesson(actor, id, await revisionOf(id), two, { nl: 'Bestanden delen' })
    expect(again).toBe('bestanden-delen-2')
    await refused(saveLesson(actor, id, await revisionOf(id), 'no-such-lesson', { title: { nl: 'x' }, minutes: 5, body: {} }), 'studio.error.notFound', 404)
  })
})

describe('quizzes', () => {
  it('saves settings and questions, keeps option ids, refuses questions that cannot be answered right', async () => {
    const actor = await trainer()
    const { course, lessonId, questionId } = await completeCourse(actor)
    const id = course.id
    await saveQuizSettings(actor, id, await revisionOf(id), lessonId, { passMark: 50, attemptLimit: 3, shuffle: false })
    let quiz = (await contentOf(id)).chapters[0]!.lessons[0]!.quiz!
    expect(quiz).toMatchObject({ passMark: 50, attemptLimit: 3, shuffle: false })
    expect(quiz.questions[0]!.options.map((o) => o.id)).toEqual(['o1', 'o2'])

    const revision = await revisionOf(id)
    const base = { prompt: { nl: 'Wat?', en: 'What?' }, explanation: {} }
    await refused(saveQuestion(actor, id, revision, lessonId, null, { ...base, kind: 'multiple', options: [{ text: { nl: 'a' }, correct: false }, { text: { nl: 'b' }, correct: false }] }), 'studio.error.needsCorrectOption', 400)
    await refused(saveQuestion(actor, id, revision, lessonId, null, { ...base, kind: 'single', options: [{ text: { nl: 'a' }, correct: true }, { text: { nl: 'b' }, correct: true }] }), 'studio.error.singleNeedsOneCorrect', 400)
    await refused(saveQuestion(actor, id, revision, lessonId, null, { ...base, kind: 'single', options: [{ text: { nl: 'a' }, correct: true }, { text: {}, correct: false }] }), 'studio.error.tooFewOptions', 400)
    expect(await revisionOf(id)).toBe(revision)

    // Edit: the known option keeps its id, a new one gets a fresh id, an emptied one goes.
    await saveQuestion(actor, id, revision, lessonId, questionId, {
      kind: 'multiple',
      prompt: { nl: 'Waar log je in?', en: 'Where do you sign in?' },
      explanation: { nl: 'Uitleg', en: 'Explanation' },
      options: [
        { id: 'o2', text: { nl: 'Elders', en: 'Elsewhere' }, correct: true },
        { text: { nl: 'Nieuw', en: 'New' }, correct: true },
        { id: 'o1', text: {}, correct: false },
      ],
    })
    const second = await saveQuestion(actor, id, await revisionOf(id), lessonId, null, { ...base, kind: 'single', options: [{ text: { nl: 'a', en: 'a' }, correct: true }, { text: { nl: 'b', en: 'b' }, correct: false }] })
    await moveQuestion(actor, id, await revisionOf(id), lessonId, second, 'up')
    quiz = (await contentOf(id)).chapters[0]!.lessons[0]!.quiz!
    expect(quiz.questions.map((q) => q.id)).toEqual([second, questionId])
    expect(quiz.questions[1]!.options.map((o) => o.id)).toEqual(['o2', 'o3'])
    await removeQuestion(actor, id, await revisionOf(id), lessonId, second)
    expect((await contentOf(id)).chapters[0]!.lessons[0]!.quiz!.questions.map((q) => q.id)).toEqual([questionId])
  })

  it('checks the same rules in the form schema, as Conform reads the form', () => {
    const form = (entries: Record<string, string>) => {
      const data = new FormData()
      for (const [k, v] of Object.entries(entries)) data.append(k, v)
      return data
    }
    const question = { intent: 'save-question', revision: '3', kind: 'single', 'prompt.nl': 'Vraag', 'options[0].text.nl': 'a', 'options[1].text.nl': 'b', 'options[3].text.nl': '' }
    const none = parseWithZod(form(question), { schema: questionSchema })
    expect(none.status === 'error' ? none.error : null).toEqual({ options: ['studio.error.singleNeedsOneCorrect'] })
    const one = parseWithZod(form({ ...question, 'options[1].correct': 'on' }), { schema: questionSchema })
    expect(one.status).toBe('success')
    const course = parseWithZod(form({ intent: 'create-course', slug: 'Mijn-cursus', languages: 'nl', 'title.nl': 'Mijn cursus' }), { schema: newCourseSchema })
    expect(course.status === 'success' && course.value).toMatchObject({ slug: 'mijn-cursus', languages: ['nl'] })
  })
})

describe('images', () => {
  it('records an uploaded image with its description and gives the snippet to paste', async () => {
    const actor = await trainer()
    const { course } = await newCourse(actor)
    const file = { storageKey: 'f'.repeat(32), fileName: 'screen.png', contentType: 'image/png', size: 10, sha256: 'x' }
    await refused(addCourseImage(actor, course.id, file, '  '), 'studio.error.imageDescription', 400)
    const image = await addCourseImage(actor, course.id, file, 'The [sign-in] page')
    expect(imageSnippet(image)).toBe(`![The \\[sign-in\\] page](/academy/images/${image.id})`)
  })
})

describe('workflow', () => {
  it('refuses to submit a draft with problems, then submits, sends back, publishes and starts a new draft with the same ids', async () => {
    const actor = await trainer()
    const reviewer = await trainer()
    const { course, lessonId, chapterId } = await completeCourse(actor)
    const id = course.id
    // The English body goes missing: not publishable.
    await saveLesson(actor, id, await revisionOf(id), lessonId, { title: { nl: 'Inloggen', en: 'Signing in' }, minutes: 7, body: { nl: '# Hallo' } })
    const error = await refused(submitForReview(actor, id, await revisionOf(id)), 'studio.error.notPublishable', 409)
    expect((error as NotPublishableError).problems).toEqual([{ code: 'missing-text', field: 'body', language: 'en', place: { chapterId, lessonId } }])
    expect((await workingCopy(id))!.status).toBe('DRAFT')

    await saveLesson(actor, id, await revisionOf(id), lessonId, { title: { nl: 'Inloggen', en: 'Signing in' }, minutes: 7, body: { nl: '# Hallo', en: '# Hello' } })
    await submitForReview(actor, id, await revisionOf(id))
    expect(await workingCopy(id)).toMatchObject({ status: 'IN_REVIEW', submittedById: actor.userId })
    // In review it is read-only.
    await refused(addChapter(actor, id, await revisionOf(id), { nl: 'Nog een' }), 'studio.error.inReview', 409)
    await refused(requestChanges(reviewer, id, await revisionOf(id), '  '), 'studio.error.reviewNote', 400)
    await requestChanges(reviewer, id, await revisionOf(id), 'Add a picture of the sign-in page.')
    expect(await workingCopy(id)).toMatchObject({ status: 'DRAFT', reviewNote: 'Add a picture of the sign-in page.' })
    await refused(publish(reviewer, id, await revisionOf(id)), 'studio.error.notInReview', 409)

    await submitForReview(actor, id, await revisionOf(id))
    await publish(reviewer, id, await revisionOf(id))
    const first = await publishedVersion(id)
    expect(first).toMatchObject({ number: 1, status: 'PUBLISHED', publishedById: reviewer.userId, submittedById: actor.userId, reviewNote: null })
    expect(await workingCopy(id)).toBeNull()
    await refused(discardDraft(actor, id, 1), 'studio.error.noDraft', 409)

    const draft = await startNewDraft(actor, id)
    expect(draft).toMatchObject({ number: 2, status: 'DRAFT', revision: 1 })
    await refused(startNewDraft(actor, id), 'studio.error.draftExists', 409)
    const copied = parseContent(draft.content)
    expect(copied).toEqual(first!.parsed)
    await saveLesson(actor, id, draft.revision, lessonId, { title: { nl: 'Aanmelden', en: 'Signing in' }, minutes: 7, body: { nl: '# Hallo', en: '# Hello' } })
    await submitForReview(actor, id, await revisionOf(id))
    await publish(actor, id, await revisionOf(id))
    const versions = await db().courseVersion.findMany({ where: { courseId: id }, orderBy: { number: 'asc' } })
    expect(versions.map((v) => v.status)).toEqual(['RETIRED', 'PUBLISHED'])
    // The lesson kept its id through both versions.
    expect((await publishedVersion(id))!.parsed.chapters[0]!.lessons[0]).toMatchObject({ id: lessonId, title: { nl: 'Aanmelden' } })
    const actions = await db().auditEntry.findMany({ where: { targetId: { in: versions.map((v) => v.id) } }, orderBy: { createdAt: 'asc' } })
    expect(actions.map((a) => a.action)).toEqual([
      'academy.course-created',
      'academy.course-submitted',
      'academy.course-changes-requested',
      'academy.course-submitted',
      'academy.course-published',
      'academy.draft-started',
      'academy.course-submitted',
      'academy.course-published',
    ])
  })

  it('discards a draft of a published course, but not the only draft of a course never published', async () => {
    const actor = await trainer()
    const { course: fresh, revision } = await newCourse(actor)
    await refused(discardDraft(actor, fresh.id, revision), 'studio.error.neverPublished', 409)
    expect(await workingCopy(fresh.id)).not.toBeNull()

    const { course } = await completeCourse(actor)
    await submitForReview(actor, course.id, await revisionOf(course.id))
    await publish(actor, course.id, await revisionOf(course.id))
    const draft = await startNewDraft(actor, course.id)
    await refused(discardDraft(actor, course.id, draft.revision + 1), 'studio.error.stale', 409)
    await discardDraft(actor, course.id, draft.revision)
    expect(await workingCopy(course.id)).toBeNull()
    expect((await publishedVersion(course.id))!.number).toBe(1)
  })

  it('deletes a course that was never published, with its images; one that was published stays', async () => {
    const actor = await trainer()
    const { course: fresh } = await newCourse(actor)
    await addCourseImage(actor, fresh.id, { storageKey: 'a'.repeat(32), fileName: 'x.png', contentType: 'image/png', size: 1, sha256: 'b'.repeat(64) }, 'A picture')
    const revision = await revisionOf(fresh.id)
    await refused(deleteUnpublishedCourse(actor, fresh.id, revision - 1), 'studio.error.stale', 409)
    expect(await db().course.count({ where: { id: fresh.id } })).toBe(1)
    expect(await deleteUnpublishedCourse(actor, fresh.id, revision)).toEqual(['a'.repeat(32)])
    expect(await db().course.count({ where: { id: fresh.id } })).toBe(0)
    expect(await db().courseImage.count({ where: { courseId: fresh.id } })).toBe(0)
    expect(await db().auditEntry.count({ where: { targetId: fresh.id, action: 'academy.course-deleted' } })).toBe(1)

    const { course } = await completeCourse(actor)
    await submitForReview(actor, course.id, await revisionOf(course.id))
    await publish(actor, course.id, await revisionOf(course.id))
    const draft = await startNewDraft(actor, course.id)
    await refused(deleteUnpublishedCourse(actor, course.id, draft.revision), 'studio.error.wasPublished', 409)
    expect((await publishedVersion(course.id))!.number).toBe(1)
    await refused(deleteUnpublishedCourse(actor, 'no-such-course', 1), 'studio.error.notFound', 404)
  })

  it('refuses a prerequisite that would close a cycle when publishing', async () => {
    const actor = await trainer()
    const a = await completeCourse(actor)
    await submitForReview(actor, a.course.id, await revisionOf(a.course.id))
    await publish(actor, a.course.id, await revisionOf(a.course.id))
    const b = await completeCourse(actor)
    const details = { languages: ['nl' as const, 'en' as const], title: { nl: 'B', en: 'B' }, summary: { nl: 's', en: 's' }, audience: { nl: 'a', en: 'a' }, toolRecipeId: null, sequential: true }
    await saveDetails(actor, b.course.id, await revisionOf(b.course.id), { ...details, prerequisites: [a.course.slug] })
    await submitForReview(actor, b.course.id, await revisionOf(b.course.id))
    await publish(actor, b.course.id, await revisionOf(b.course.id))
    // Now A would need B, which needs A.
    await startNewDraft(actor, a.course.id)
    await saveDetails(actor, a.course.id, await revisionOf(a.course.id), { ...details, prerequisites: [b.course.slug] })
    const error = await refused(submitForReview(actor, a.course.id, await revisionOf(a.course.id)), 'studio.error.notPublishable', 409)
    expect((error as NotPublishableError).problems.map((p) => p.code)).toEqual(['prerequisite-cycle'])
  })
})
