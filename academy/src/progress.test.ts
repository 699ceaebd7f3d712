import { describe, expect, it } from 'vitest'
import type { ContentLesson, ContentQuiz, CourseContent } from './content.ts'
import { answerProblems, attemptsLeft, courseProgress, gradeQuiz, isLessonOpen, mayAttempt, shuffledOptions } from './progress.ts'

// The pure rules of learning. The portal's learning.server.ts trusts these to
// decide what a member may open and whether a quiz is passed, so the edges
// (pass mark exactly met, a new version with lessons moved) are pinned here.

const lesson = (id: string, quiz?: ContentQuiz): ContentLesson => ({ id, title: { en: id }, minutes: 5, body: { en: `# ${id}` }, ...(quiz ? { quiz } : {}) })

function course(chapters: Record<string, ContentLesson[]>, sequential = true): CourseContent {
  return {
    languages: ['en'],
    title: { en: 'Test course' },
    summary: { en: 'About testing' },
    audience: { en: 'Everyone' },
    toolRecipeId: null,
    prerequisites: [],
    sequential,
    chapters: Object.entries(chapters).map(([id, lessons]) => ({ id, title: { en: id }, lessons })),
  }
}

const quiz = (passMark: number, questions: ContentQuiz['questions'], attemptLimit: number | null = null): ContentQuiz => ({ passMark, attemptLimit, shuffle: true, questions })

const single = (id: string, correct: string, others: string[]): ContentQuiz['questions'][number] => ({
  id,
  kind: 'single',
  prompt: { en: id },
  explanation: { en: `why ${id}` },
  options: [correct, ...others].map((o) => ({ id: o, text: { en: o }, correct: o === correct })),
})

const multiple = (id: string, correct: string[], wrong: string[]): ContentQuiz['questions'][number] => ({
  id,
  kind: 'multiple',
  prompt: { en: id },
  explanation: { en: `why ${id}` },
  options: [...correct.map((o) => ({ id: o, text: { en: o }, correct: true })), ...wrong.map((o) => ({ id: o, text: { en: o }, correct: false }))],
})

const states = (content: CourseContent, done: string[]) => courseProgress(content, new Set(done)).lessons.map((l) => `${l.lessonId}:${l.state}`)

describe('courseProgress', () => {
  const three = course({ one: [lesson('a'), lesson('b')], two: [lesson('c')] })

  it('opens lessons one after the other in a sequential course, across chapters', () => {
    expect(states(three, [])).toEqual(['a:open', 'b:locked', 'c:locked'])
    expect(states(three, ['a'])).toEqual(['a:done', 'b:open', 'c:locked'])
    expect(states(three, ['a', 'b'])).toEqual(['a:done', 'b:done', 'c:open'])
    const progress = courseProgress(three, new Set(['a']))
    expect(progress).toMatchObject({ done: 1, total: 3, percent: 33, complete: false, next: 'b' })
    expect(progress.lessons.map((l) => [l.chapterId, l.index])).toEqual([
      ['one', 0],
      ['one', 1],
      ['two', 2],
    ])
  })

  it('opens every lesson of a non-sequential course, and goes on at the first one not done', () => {
    const free = { ...three, sequential: false }
    expect(states(free, [])).toEqual(['a:open', 'b:open', 'c:open'])
    expect(states(free, ['b'])).toEqual(['a:open', 'b:done', 'c:open'])
    expect(courseProgress(free, new Set(['a', 'c'])).next).toBe('b')
  })

  it('is complete when every lesson is done, with no next lesson', () => {
    const progress = courseProgress(three, new Set(['a', 'b', 'c']))
    expect(progress).toMatchObject({ done: 3, total: 3, percent: 100, complete: true, next: null })
  })

  it('is never complete without lessons', () => {
    expect(courseProgress(course({}), new Set())).toMatchObject({ total: 0, percent: 0, complete: false, next: null })
  })

  it('keeps progress by lesson id through a new version: removed lessons stop counting, added ones are still to do', () => {
    const v2 = course({ one: [lesson('a'), lesson('new')], two: [lesson('c')] })
    // "b" was done in version 1 and is gone; "new" arrived before "c".
    const progress = courseProgress(v2, new Set(['a', 'b']))
    expect(progress.lessons.map((l) => `${l.lessonId}:${l.state}`)).toEqual(['a:done', 'new:open', 'c:locked'])
    expect(progress).toMatchObject({ done: 1, total: 3, percent: 33, complete: false, next: 'new' })
  })

  it('keeps a lesson done when a new version moves it after one still to do, and locks what follows', () => {
    const reordered = course({ one: [lesson('c'), lesson('a')], two: [lesson('b')] })
    expect(states(reordered, ['a'])).toEqual(['c:open', 'a:done', 'b:locked'])
    expect(isLessonOpen(courseProgress(reordered, new Set(['a'])), 'a')).toBe(true)
    expect(isLessonOpen(courseProgress(reordered, new Set(['a'])), 'b')).toBe(false)
  })

  it('says a lesson has a quiz only when the quiz has questions', () => {
    const content = course({ one: [lesson('a', quiz(50, [])), lesson('b', quiz(50, [single('q', 'x', ['y'])]))] })
    expect(courseProgress(content, new Set()).lessons.map((l) => l.hasQuiz)).toEqual([false, true])
  })

  it('does not open a lesson the course does not have', () => {
    expect(isLessonOpen(courseProgress(three, new Set()), 'nope')).toBe(false)
    expect(isLessonOpen(courseProgress(three, new Set()), 'a')).toBe(true)
  })
})

describe('answerProblems', () => {
  const q = quiz(100, [single('one', 'right', ['wrong']), multiple('many', ['x', 'y'], ['z'])])

  it('accepts every question answered with existing options, ignoring questions the quiz does not have', () => {
    expect(answerProblems(q, { one: ['right'], many: ['x', 'z'], other: ['?'] })).toEqual([])
  })

  it('names each question that is unanswered, has an unknown option, or two answers to a single-choice question', () => {
    expect(answerProblems(q, {})).toEqual([
      { code: 'unanswered', questionId: 'one' },
      { code: 'unanswered', questionId: 'many' },
    ])
    expect(answerProblems(q, { one: ['right', 'wrong'], many: ['x', 'forged'] })).toEqual([
      { code: 'one-answer-only', questionId: 'one' },
      { code: 'unknown-option', questionId: 'many' },
    ])
    expect(answerProblems(q, { one: [], many: ['y'] })).toEqual([{ code: 'unanswered', questionId: 'one' }])
  })

  it('takes the same option sent twice as one answer', () => {
    expect(answerProblems(q, { one: ['right', 'right'], many: ['x'] })).toEqual([])
  })

  it('treats a question named like an object property as unanswered, not as answered by the prototype', () => {
    const odd = quiz(100, [single('constructor', 'a', ['b']), single('to-string', 'a', ['b'])])
    expect(answerProblems(odd, {})).toEqual([
      { code: 'unanswered', questionId: 'constructor' },
      { code: 'unanswered', questionId: 'to-string' },
    ])
    expect(gradeQuiz(odd, {}).right).toBe(0)
  })
})

describe('gradeQuiz', () => {
  const q = quiz(67, [single('one', 'right', ['wrong']), multiple('many', ['x', 'y'], ['z']), single('three', 'yes', ['no'])])

  it('counts a question right when exactly its correct options were chosen, in any order', () => {
    const grade = gradeQuiz(q, { one: ['right'], many: ['y', 'x'], three: ['yes'] })
    expect(grade).toMatchObject({ score: 100, right: 3, total: 3, passed: true })
    expect(grade.results[1]).toEqual({ questionId: 'many', correct: true, chosen: ['x', 'y'], correctOptions: ['x', 'y'] })
  })

  it('gives no partial credit: too few or too many options of a multiple-choice question are wrong', () => {
    expect(gradeQuiz(q, { one: ['right'], many: ['x'], three: ['yes'] }).results[1]!.correct).toBe(false)
    expect(gradeQuiz(q, { one: ['right'], many: ['x', 'y', 'z'], three: ['yes'] }).results[1]!.correct).toBe(false)
  })

  it('rounds the score down, and passes only at or above the pass mark', () => {
    // Two of three right is 66.67 %: 66, below a pass mark of 67.
    const twoOfThree = { one: ['right'], many: ['x'], three: ['yes'] }
    expect(gradeQuiz(q, twoOfThree)).toMatchObject({ score: 66, right: 2, passed: false })
    expect(gradeQuiz({ ...q, passMark: 66 }, twoOfThree).passed).toBe(true)
    const oneOfThree = { one: ['wrong'], many: ['z'], three: ['yes'] }
    expect(gradeQuiz({ ...q, passMark: 33 }, oneOfThree)).toMatchObject({ score: 33, passed: true })
    expect(gradeQuiz({ ...q, passMark: 34 }, oneOfThree)).toMatchObject({ score: 33, passed: false })
  })

  it('passes a pass mark of 0 with nothing right, and needs everything right at 100', () => {
    const none = { one: ['wrong'], many: ['z'], three: ['no'] }
    expect(gradeQuiz({ ...q, passMark: 0 }, none)).toMatchObject({ score: 0, passed: true })
    expect(gradeQuiz({ ...q, passMark: 100 }, { one: ['right'], many: ['x', 'y'], three: ['no'] }).passed).toBe(false)
  })

  it('never passes an empty quiz', () => {
    expect(gradeQuiz(quiz(0, []), {})).toEqual({ score: 0, right: 0, total: 0, passed: false, results: [] })
  })
})

describe('attempts', () => {
  it('counts attempts left down to zero, or none when unlimited', () => {
    expect(attemptsLeft({ attemptLimit: 3 }, 0)).toBe(3)
    expect(attemptsLeft({ attemptLimit: 3 }, 2)).toBe(1)
    expect(attemptsLeft({ attemptLimit: 3 }, 3)).toBe(0)
    expect(attemptsLeft({ attemptLimit: 3 }, 5)).toBe(0)
    expect(attemptsLeft({ attemptLimit: null }, 40)).toBeNull()
  })

  it('allows another attempt until the limit or a pass', () => {
    expect(mayAttempt({ attemptLimit: 2 }, 1, false)).toBe(true)
    expect(mayAttempt({ attemptLimit: 2 }, 2, false)).toBe(false)
    expect(mayAttempt({ attemptLimit: 2 }, 0, true)).toBe(false)
    expect(mayAttempt({ attemptLimit: null }, 1000, false)).toBe(true)
    expect(mayAttempt({ attemptLimit: null }, 1, true)).toBe(false)
  })
})

describe('shuffledOptions', () => {
  const options = 'abcdefgh'.split('').map((id) => ({ id }))
  const ids = (list: { id: string }[]) => list.map((o) => o.id).join('')

  it('gives the same order for the same seed, so a reload shows what was shown', () => {
    expect(ids(shuffledOptions(options, 'enrolment:lesson:1'))).toBe(ids(shuffledOptions(options, 'enrolment:lesson:1')))
  })

  it('is a permutation of the options and leaves the input alone', () => {
    const before = ids(options)
    const shuffled = shuffledOptions(options, 'seed')
    expect([...ids(shuffled)].sort().join('')).toBe(before)
    expect(shuffled).toHaveLength(options.length)
    expect(ids(options)).toBe(before)
  })

  it('differs across seeds: the next attempt and another member see another order', () => {
    const orders = new Set(Array.from({ length: 20 }, (_, attempt) => ids(shuffledOptions(options, `enrolment:lesson:${attempt + 1}`))))
    expect(orders.size).toBeGreaterThan(15)
    expect(ids(shuffledOptions(options, 'member-a:lesson:1'))).not.toBe(ids(shuffledOptions(options, 'member-b:lesson:1')))
  })

  it('puts each option first about equally often', () => {
    const first = new Map<string, number>()
    for (let i = 0; i < 4000; i++) {
      const id = shuffledOptions(options.slice(0, 4), `seed-${i}`)[0]!.id
      first.set(id, (first.get(id) ?? 0) + 1)
    }
    for (const id of 'abcd') expect(first.get(id)).toBeGreaterThan(800)
  })

  it('handles no options and one option', () => {
    expect(shuffledOptions([], 'x')).toEqual([])
    expect(shuffledOptions([{ id: 'only' }], 'x')).toEqual([{ id: 'only' }])
  })
})
