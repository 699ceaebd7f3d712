import { categories, loadCatalog, type Category, type Recipe } from '@commons/catalog'
import { env } from './env.server'
import type { Language, Translate } from './i18n'

/** Recipes our tests build from scratch; organisations never see them in production. */
const TEST_RECIPES = new Set(['hello', 'trio'])

declare global {
  // Shared by server/index.ts and the Remix build, which load this module separately.
  var __catalog: readonly Recipe[] | undefined
}

/**
 * Reads and validates catalog/recipes once (server start). A broken recipe
 * stops the start with loadCatalog's list of problems.
 */
export async function initCatalog(dir: string) {
  const entries = await loadCatalog(dir)
  globalThis.__catalog = entries.map((e) => e.recipe)
  return globalThis.__catalog
}

/** The recipes people may see, sorted by id; test recipes only when CATALOG_SHOW_TEST_RECIPES=true. */
export function catalogRecipes(): readonly Recipe[] {
  const all = globalThis.__catalog
  if (!all) throw new Error('the catalog is not loaded: server/index.ts calls initCatalog() at start')
  return visibleRecipes(all, env().CATALOG_SHOW_TEST_RECIPES)
}

export function visibleRecipes(all: readonly Recipe[], showTestRecipes: boolean): readonly Recipe[] {
  return showTestRecipes ? all : all.filter((r) => !TEST_RECIPES.has(r.id))
}

/** A visible recipe by id; hidden test recipes count as unknown. */
export function findRecipe(id: string): Recipe | undefined {
  return catalogRecipes().find((r) => r.id === id)
}

export function isCategory(value: unknown): value is Category {
  return typeof value === 'string' && (categories as readonly string[]).includes(value)
}

/** Lower case without accents, so "cooperatie" finds "coöperatie". */
function fold(text: string) {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
}

/**
 * The recipes matching every word of `q` in the person's language (name,
 * summary, purpose, the category's name), within `category` when given.
 */
export function searchCatalog(recipes: readonly Recipe[], options: { q?: string; category?: Category; lang: Language; t: Translate }) {
  const words = fold(options.q ?? '')
    .split(/\s+/)
    .filter(Boolean)
  return recipes.filter((recipe) => {
    if (options.category && recipe.category !== options.category) return false
    if (words.length === 0) return true
    const texts = recipe.texts[options.lang]
    const haystack = fold([texts.name, texts.summary, texts.purpose, options.t(`catalog.category.${recipe.category}`), recipe.id].join(' '))
    return words.every((w) => haystack.includes(w))
  })
}

/** "512m" → 512 MB, "2g" → 2 GB, for people rather than Docker. */
export function memoryInMegabytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg])$/.exec(size)
  if (!match) return 0
  const n = Number(match[1])
  return match[2] === 'g' ? n * 1024 : match[2] === 'm' ? n : n / 1024
}

export { categories }
export type { Category, Recipe }
