export * from './recipe.ts'
export * from './load.ts'
export * from './placeholders.ts'
export * from './render.ts'
