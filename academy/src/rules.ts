// What the browser may load too: the schemas and the rules, without the
// loader of course folders (which reads files).
export * from './course.ts'
export * from './markdown.ts'
export * from './content.ts'
export * from './progress.ts'
