import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { lessonsOf, validateCourse, type Course, type Language } from './course.ts'
import { findImages, findRawHtml, imageTargetProblem } from './markdown.ts'

export class CourseError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The academy has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'CourseError'
  }
}

export type LoadedCourse = {
  course: Course
  /** Absolute path of the course's folder. */
  dir: string
  /** Lesson Markdown by lesson id, then language. */
  lessons: ReadonlyMap<string, Readonly<Partial<Record<Language, string>>>>
}

/**
 * Reads every course folder under `dir` (`<slug>/course.yaml`), validates it,
 * checks that its slug is its folder's name, that every lesson file exists,
 * is not empty and is safe Markdown (no raw HTML, only images that live in
 * the course's `images/`), and that prerequisites name existing courses
 * without a cycle. Throws one CourseError listing every problem of every
 * course, or returns the courses sorted by slug.
 */
export async function loadCourses(dir: string): Promise<LoadedCourse[]> {
  const root = path.resolve(dir)
  const problems: string[] = []
  const loaded: LoadedCourse[] = []
  const folders = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()

  for (const folder of folders) {
    const courseDir = path.join(root, folder)
    const report = (msg: string) => problems.push(`${folder}: ${msg}`)
    let yaml: unknown
    try {
      yaml = parseYaml(await readFile(path.join(courseDir, 'course.yaml'), 'utf8'))
    } catch (error) {
      if (isNodeError(error) && error.code === 'ENOENT') report('course.yaml: missing')
      else if (error instanceof YAMLParseError) report(`course.yaml: not valid YAML (${error.message})`)
      else throw error
      continue
    }
    const { course, problems: courseProblems } = validateCourse(yaml)
    courseProblems.forEach(report)
    if (!course) continue
    if (course.slug !== folder) report(`slug: must equal the folder name "${folder}", not "${course.slug}"`)
    loaded.push({ course, dir: courseDir, lessons: await loadLessons(course, courseDir, report) })
  }
  if (folders.length === 0) problems.push(`${root}: no course folders`)
  checkPrerequisites(
    loaded.map((l) => l.course),
    new Set(folders),
    problems,
  )
  if (problems.length > 0) throw new CourseError(problems)
  return loaded
}

async function loadLessons(
  course: Course,
  courseDir: string,
  report: (msg: string) => void,
): Promise<Map<string, Partial<Record<Language, string>>>> {
  const lessons = new Map<string, Partial<Record<Language, string>>>()
  for (const { chapter, lesson } of lessonsOf(course)) {
    const texts: Partial<Record<Language, string>> = {}
    for (const language of course.languages) {
      const file = lesson.file[language]
      if (file === undefined) continue // reported by the schema
      const where = `chapter "${chapter.id}" › lesson "${lesson.id}" › file.${language} (${file})`
      const text = await readIfFile(path.join(courseDir, file))
      if (text === undefined) {
        report(`${where}: file does not exist`)
        continue
      }
      if (text.trim() === '') {
        report(`${where}: file is empty`)
        continue
      }
      for (const p of findRawHtml(text)) report(`${where}, line ${p.line}: ${p.message}`)
      for (const image of findImages(text)) {
        const problem = imageTargetProblem(image.target)
        if (problem) report(`${where}, line ${image.line}: ${problem}`)
        else if (!(await isFile(path.join(courseDir, image.target)))) {
          report(`${where}, line ${image.line}: image "${image.target}" does not exist in the course folder`)
        }
      }
      texts[language] = text
    }
    lessons.set(lesson.id, texts)
  }
  return lessons
}

// Prerequisites must exist and form no cycle, or no member could ever start the course.
function checkPrerequisites(courses: readonly Course[], folders: ReadonlySet<string>, problems: string[]): void {
  const bySlug = new Map(courses.map((c) => [c.slug, c]))
  for (const course of courses) {
    for (const p of course.prerequisites) {
      if (!bySlug.has(p) && !folders.has(p)) problems.push(`${course.slug}: prerequisites: course "${p}" does not exist`)
    }
  }
  const done = new Set<string>()
  const reported = new Set<string>()
  const visit = (slug: string, trail: string[]) => {
    const start = trail.indexOf(slug)
    if (start !== -1) {
      const cycle = [...trail.slice(start), slug]
      const key = [...cycle.slice(0, -1)].sort().join(',')
      if (!reported.has(key)) {
        reported.add(key)
        problems.push(`${slug}: prerequisites form a cycle: ${cycle.join(' → ')}`)
      }
      return
    }
    if (done.has(slug)) return
    for (const p of bySlug.get(slug)?.prerequisites ?? []) visit(p, [...trail, slug])
    done.add(slug)
  }
  for (const c of courses) visit(c.slug, [])
}

async function readIfFile(file: string): Promise<string | undefined> {
  return (await isFile(file)) ? readFile(file, 'utf8') : undefined
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (st) => st.isFile(),
    (error: unknown) => {
      if (isNodeError(error) && error.code === 'ENOENT') return false
      throw error
    },
  )
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error
}
