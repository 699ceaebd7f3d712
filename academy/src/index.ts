export * from './course.ts'
export * from './markdown.ts'
export * from './load.ts'
