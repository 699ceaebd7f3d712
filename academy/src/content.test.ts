import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { contentFromFolder, contentLessons, contentProblems, CourseContent, emptyContent, optionProblems, readingLanguage, textIn, type ContentQuestion } from './content.ts'
import { loadCourses } from './load.ts'

const coursesDir = path.join(import.meta.dirname, '..', 'courses')

function question(overrides: Partial<ContentQuestion> = {}): ContentQuestion {
  return {
    id: 'q1',
    kind: 'single',
    prompt: { nl: 'Welke?', en: 'Which?' },
    options: [
      { id: 'a', text: { nl: 'A', en: 'A' }, correct: true },
      { id: 'b', text: { nl: 'B', en: 'B' }, correct: false },
    ],
    explanation: { nl: 'Omdat.', en: 'Because.' },
    ...overrides,
  }
}

function publishable(): CourseContent {
  return CourseContent.parse({
    languages: ['nl', 'en'],
    title: { nl: 'Titel', en: 'Title' },
    summary: { nl: 'Samenvatting', en: 'Summary' },
    audience: { nl: 'Iedereen', en: 'Everyone' },
    chapters: [
      {
        id: 'start',
        title: { nl: 'Begin', en: 'Start' },
        lessons: [{ id: 'one', title: { nl: 'Een', en: 'One' }, minutes: 5, body: { nl: 'Tekst', en: 'Text' }, quiz: { passMark: 50, attemptLimit: 2, questions: [question()] } }],
      },
    ],
  })
}

describe('stored course content', () => {
  it('takes every starter course as it is, with its Markdown and quizzes', async () => {
    const courses = await loadCourses(coursesDir)
    for (const loaded of courses) {
      const content = contentFromFolder(loaded)
      expect(contentProblems(content, loaded.course.slug, new Map(courses.map((c) => [c.course.slug, c.course.prerequisites]))), loaded.course.slug).toEqual([])
      expect(contentLessons(content).length).toBeGreaterThanOrEqual(4)
      expect(contentLessons(content).every(({ lesson }) => lesson.body.nl && lesson.body.en)).toBe(true)
      expect(content.chapters.flatMap((c) => c.lessons).some((l) => l.quiz?.shuffle === true)).toBe(true)
    }
  })

  it('defaults what older documents lack: sequential lessons, no tool, no prerequisites, shuffled options', () => {
    const content = CourseContent.parse({ languages: ['en'], title: { en: 'T' }, summary: {}, audience: {}, chapters: [] })
    expect(content).toMatchObject({ sequential: true, toolRecipeId: null, prerequisites: [] })
    const quiz = CourseContent.parse({
      languages: ['en'],
      title: {},
      summary: {},
      audience: {},
      chapters: [{ id: 'c', title: {}, lessons: [{ id: 'l', title: {}, minutes: 1, body: {}, quiz: { passMark: 1, attemptLimit: null, questions: [] } }] }],
    }).chapters[0]?.lessons[0]?.quiz
    expect(quiz?.shuffle).toBe(true)
  })

  it('refuses ids that are not slugs and unknown fields', () => {
    expect(CourseContent.safeParse({ ...publishable(), chapters: [{ id: 'Not A Slug', title: {}, lessons: [] }] }).success).toBe(false)
    expect(CourseContent.safeParse({ ...publishable(), extra: true }).success).toBe(false)
  })
})

describe('what stands between a draft and publishing', () => {
  const none = new Map<string, string[]>()

  it('nothing, for a complete course', () => {
    expect(contentProblems(publishable(), 'course', none)).toEqual([])
  })

  it('an empty draft: every text of the course in each language, and a chapter', () => {
    const problems = contentProblems(emptyContent(['nl', 'en'], { nl: 'Titel' }), 'course', none)
    expect(problems).toEqual([
      { code: 'missing-text', field: 'title', language: 'en', place: {} },
      { code: 'missing-text', field: 'summary', language: 'nl', place: {} },
      { code: 'missing-text', field: 'summary', language: 'en', place: {} },
      { code: 'missing-text', field: 'audience', language: 'nl', place: {} },
      { code: 'missing-text', field: 'audience', language: 'en', place: {} },
      { code: 'no-chapters', place: {} },
    ])
  })

  it('a lesson only written in Dutch so far, named by its place', () => {
    const content = publishable()
    content.chapters[0]!.lessons[0]!.body = { nl: 'Tekst', en: '   ' }
    expect(contentProblems(content, 'course', none)).toEqual([
      { code: 'missing-text', field: 'body', language: 'en', place: { chapterId: 'start', lessonId: 'one' } },
    ])
  })

  it('an empty chapter and an empty quiz', () => {
    const content = publishable()
    content.chapters.push({ id: 'later', title: { nl: 'Later', en: 'Later' }, lessons: [] })
    content.chapters[0]!.lessons[0]!.quiz!.questions = []
    expect(contentProblems(content, 'course', none).map((p) => p.code)).toEqual(['empty-quiz', 'empty-chapter'])
  })

  it('raw HTML and images from elsewhere in a lesson, with their line', () => {
    const content = publishable()
    content.chapters[0]!.lessons[0]!.body = {
      nl: 'Hallo\n<script>alert(1)</script>',
      en: 'Hi\n\n![logo](https://tracker.example/pixel.png)\n\n![ours](/academy/images/clx0abcdefghij12345)',
    }
    expect(contentProblems(content, 'course', none)).toEqual([
      { code: 'raw-html', language: 'nl', line: 2, place: { chapterId: 'start', lessonId: 'one' } },
      { code: 'raw-html', language: 'nl', line: 2, place: { chapterId: 'start', lessonId: 'one' } },
      { code: 'external-image', language: 'en', line: 3, target: 'https://tracker.example/pixel.png', place: { chapterId: 'start', lessonId: 'one' } },
    ])
  })

  it('questions that cannot be answered right', () => {
    const place = { chapterId: 'start', lessonId: 'one', questionId: 'q1' }
    const content = publishable()
    content.chapters[0]!.lessons[0]!.quiz!.questions = [question({ options: question().options.map((o) => ({ ...o, correct: false })) })]
    expect(contentProblems(content, 'course', none)).toEqual([{ code: 'single-needs-one-correct', correct: 0, place }])
  })

  it('prerequisites that do not exist, the course itself, and cycles', () => {
    const content = { ...publishable(), prerequisites: ['basics', 'missing', 'course'] }
    const known = new Map([
      ['basics', ['advanced']],
      ['advanced', ['course']],
    ])
    expect(contentProblems(content, 'course', known)).toEqual([
      { code: 'prerequisite-unknown', slug: 'missing', place: {} },
      { code: 'prerequisite-unknown', slug: 'course', place: {} },
      { code: 'prerequisite-cycle', cycle: ['course', 'basics', 'advanced', 'course'], place: {} },
    ])
  })

  it('a cycle elsewhere in the academy is not this course’s problem', () => {
    const known = new Map([
      ['a', ['b']],
      ['b', ['a']],
    ])
    expect(contentProblems({ ...publishable(), prerequisites: ['a'] }, 'course', known)).toEqual([])
  })
})

describe('the options of one question', () => {
  it.each([
    ['one option', question({ options: [question().options[0]!] }), 'too-few-options'],
    ['single choice, none correct', question({ options: question().options.map((o) => ({ ...o, correct: false })) }), 'single-needs-one-correct'],
    ['single choice, two correct', question({ options: question().options.map((o) => ({ ...o, correct: true })) }), 'single-needs-one-correct'],
    ['multiple choice, none correct', question({ kind: 'multiple', options: question().options.map((o) => ({ ...o, correct: false })) }), 'needs-a-correct-option'],
  ])('refuses %s', (_, q, code) => {
    expect(optionProblems(q).map((p) => p.code)).toEqual([code])
  })

  it('takes multiple choice with every option correct', () => {
    expect(optionProblems(question({ kind: 'multiple', options: question().options.map((o) => ({ ...o, correct: true })) }))).toEqual([])
  })
})

describe('languages', () => {
  it('a text falls back to another language rather than showing nothing', () => {
    expect(textIn({ nl: 'Hallo', en: 'Hello' }, 'en')).toBe('Hello')
    expect(textIn({ nl: 'Hallo', en: '  ' }, 'en')).toBe('Hallo')
    expect(textIn({}, 'en')).toBe('')
    expect(textIn(undefined, 'nl')).toBe('')
  })

  it('a member reads in their language when the course has it, else in the course’s first', () => {
    expect(readingLanguage({ languages: ['nl', 'en'] }, 'en')).toBe('en')
    expect(readingLanguage({ languages: ['nl'] }, 'en')).toBe('nl')
  })
})
