import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { lessonsOf, supportedLanguages } from './course.ts'
import { CourseError, loadCourses } from './load.ts'
import { countWords, findRawHtml } from './markdown.ts'

const coursesDir = path.join(import.meta.dirname, '..', 'courses')

describe('the starter courses', async () => {
  const courses = await loadCourses(coursesDir)

  it('are the five starter courses', () => {
    expect(courses.map((c) => c.course.slug)).toEqual([
      'digital-safety',
      'discourse-basics',
      'loomio-basics',
      'matrix-element-basics',
      'nextcloud-basics',
    ])
  })

  it.each(courses.map((c) => [c.course.slug, c] as const))('%s is in Dutch and English, with a quiz', (_, { course, lessons }) => {
    expect(course.languages).toEqual([...supportedLanguages])
    const all = lessonsOf(course)
    expect(all.length).toBeGreaterThanOrEqual(4)
    expect(all.length).toBeLessThanOrEqual(7)
    const quizzes = all.flatMap(({ lesson }) => (lesson.quiz ? [lesson.quiz] : []))
    expect(quizzes.length).toBeGreaterThanOrEqual(1)
    for (const quiz of quizzes) {
      expect(quiz.questions.length).toBeGreaterThanOrEqual(3)
      expect(quiz.questions.length).toBeLessThanOrEqual(5)
    }
    for (const { lesson } of all) {
      for (const language of supportedLanguages) {
        const words = countWords(lessons.get(lesson.id)?.[language] ?? '')
        expect(words, `${course.slug} › ${lesson.id} (${language})`).toBeGreaterThanOrEqual(100)
        expect(words, `${course.slug} › ${lesson.id} (${language})`).toBeLessThanOrEqual(600)
      }
    }
  })

  it('link the four tool courses to their catalog recipe, and digital-safety stands alone', () => {
    const bySlug = new Map(courses.map((c) => [c.course.slug, c.course]))
    expect(bySlug.get('nextcloud-basics')?.toolRecipeId).toBe('nextcloud')
    expect(bySlug.get('matrix-element-basics')?.toolRecipeId).toBe('matrix')
    expect(bySlug.get('loomio-basics')?.toolRecipeId).toBe('loomio')
    expect(bySlug.get('discourse-basics')?.toolRecipeId).toBe('discourse')
    expect(bySlug.get('digital-safety')?.toolRecipeId).toBeUndefined()
    for (const c of courses) expect(c.course.prerequisites).not.toContain('digital-safety')
  })
})

describe('an invalid course is refused', () => {
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  // A copy of one real course, changed by `edit`, alone in a temp folder.
  async function brokenCourse(edit: (course: Record<string, any>, dir: string) => Promise<void> | void): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), 'academy-'))
    dirs.push(root)
    const dir = path.join(root, 'nextcloud-basics')
    await cp(path.join(coursesDir, 'nextcloud-basics'), dir, { recursive: true })
    const file = path.join(dir, 'course.yaml')
    const course = parse(await readFile(file, 'utf8')) as Record<string, any>
    await edit(course, dir)
    await writeFile(file, stringify(course))
    return root
  }

  async function problemsOf(root: string): Promise<string[]> {
    const error = await loadCourses(root).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(CourseError)
    return [...(error as CourseError).problems]
  }

  const firstQuestion = (c: Record<string, any>) => c.chapters[1].lessons[2].quiz.questions[0]

  it('when a language is missing', async () => {
    const root = await brokenCourse((c) => {
      delete c.chapters[0].lessons[1].title.en
    })
    expect(await problemsOf(root)).toEqual([
      'nextcloud-basics: chapter "files-and-sharing" › lesson "sharing" › title: missing language "en"',
    ])
  })

  it('when a quiz question has no correct answer', async () => {
    const root = await brokenCourse((c) => {
      const q = c.chapters[1].lessons[2].quiz.questions[1]
      for (const o of q.options) o.correct = false
    })
    expect(await problemsOf(root)).toEqual([
      'nextcloud-basics: chapter "calendar-apps-data" › lesson "where-data-lives" › quiz › question "public-link-safety" › options: a multiple-choice question needs at least 1 correct option, not 0',
    ])
  })

  it('when a single-choice question has two correct answers', async () => {
    const root = await brokenCourse((c) => {
      firstQuestion(c).options[1].correct = true
    })
    expect(await problemsOf(root)).toEqual([
      'nextcloud-basics: chapter "calendar-apps-data" › lesson "where-data-lives" › quiz › question "share-board" › options: a single-choice question needs exactly 1 correct option, not 2',
    ])
  })

  it('when a question has one option or a duplicate id', async () => {
    const root = await brokenCourse((c) => {
      const q = c.chapters[1].lessons[2].quiz.questions
      q[0].options = [q[0].options[0]]
      q[2].id = q[1].id
    })
    const problems = await problemsOf(root)
    expect(problems).toContain(
      'nextcloud-basics: chapter "calendar-apps-data" › lesson "where-data-lives" › quiz › question "share-board" › options: a question needs at least 2 options',
    )
    expect(problems).toContain(
      'nextcloud-basics: chapter "calendar-apps-data" › lesson "where-data-lives" › quiz › question "public-link-safety": duplicate question id "public-link-safety"',
    )
  })

  it('when lesson Markdown holds raw HTML such as <script>', async () => {
    const root = await brokenCourse(async (_, dir) => {
      await writeFile(path.join(dir, 'lessons/01-files.en.md'), '# Files\n\nHello `<b>` is fine in code.\n\n<script>alert(1)</script>\n')
    })
    expect(await problemsOf(root)).toEqual([
      'nextcloud-basics: chapter "files-and-sharing" › lesson "files" › file.en (lessons/01-files.en.md), line 5: raw HTML "<script" is not allowed; write Markdown instead',
      'nextcloud-basics: chapter "files-and-sharing" › lesson "files" › file.en (lessons/01-files.en.md), line 5: raw HTML "</script" is not allowed; write Markdown instead',
    ])
  })

  it('when lesson Markdown loads an external or missing image', async () => {
    const root = await brokenCourse(async (_, dir) => {
      await writeFile(
        path.join(dir, 'lessons/01-files.nl.md'),
        '# Bestanden\n\n![logo](https://tracker.example/pixel.png)\n\n![map](images/missing.png)\n\n```\n![in code](https://ok.example/a.png)\n```\n',
      )
    })
    expect(await problemsOf(root)).toEqual([
      'nextcloud-basics: chapter "files-and-sharing" › lesson "files" › file.nl (lessons/01-files.nl.md), line 3: external image "https://tracker.example/pixel.png" is not allowed; put it in images/',
      'nextcloud-basics: chapter "files-and-sharing" › lesson "files" › file.nl (lessons/01-files.nl.md), line 5: image "images/missing.png" does not exist in the course folder',
    ])
  })

  it('when a lesson file is missing or empty', async () => {
    const root = await brokenCourse(async (c, dir) => {
      c.chapters[1].lessons[0].file.nl = 'lessons/99-nowhere.nl.md'
      await writeFile(path.join(dir, 'lessons/04-apps.en.md'), '  \n')
    })
    expect(await problemsOf(root)).toEqual([
      'nextcloud-basics: chapter "calendar-apps-data" › lesson "calendar" › file.nl (lessons/99-nowhere.nl.md): file does not exist',
      'nextcloud-basics: chapter "calendar-apps-data" › lesson "apps" › file.en (lessons/04-apps.en.md): file is empty',
    ])
  })

  it('when prerequisites form a cycle or name an unknown course', async () => {
    const root = await brokenCourse((c) => {
      c.prerequisites = ['other-course']
    })
    await cp(path.join(root, 'nextcloud-basics'), path.join(root, 'other-course'), { recursive: true })
    const other = path.join(root, 'other-course', 'course.yaml')
    const course = parse(await readFile(other, 'utf8')) as Record<string, any>
    course.slug = 'other-course'
    course.prerequisites = ['nextcloud-basics', 'no-such-course']
    await writeFile(other, stringify(course))
    expect(await problemsOf(root)).toEqual([
      'other-course: prerequisites: course "no-such-course" does not exist',
      'nextcloud-basics: prerequisites form a cycle: nextcloud-basics → other-course → nextcloud-basics',
    ])
  })
})

describe('findRawHtml', () => {
  it('ignores code blocks, code spans and a lone "<"', () => {
    expect(findRawHtml('a < b\n\n```html\n<div>\n```\n\n`<i>`\n\n    <p>indented</p>\n')).toEqual([])
  })
})
