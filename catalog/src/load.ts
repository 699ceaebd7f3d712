import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { checkTemplate, formatPath, restoreCommands, validateRecipe, type HostableRecipe, type Path, type Recipe } from './recipe.ts'

export class CatalogError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The catalog has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'CatalogError'
  }
}

export type CatalogEntry = {
  recipe: Recipe
  /** Absolute path of the recipe's folder. */
  dir: string
  /** Config file templates by their name in the recipe ("files/homeserver.yaml"). */
  templates: ReadonlyMap<string, string>
}

/**
 * Reads every recipe folder under `dir` (`<id>/recipe.json`), validates it,
 * checks that its id is its folder's name and that its config file templates
 * exist and use known placeholders. Throws one CatalogError listing every
 * problem of every recipe, or returns the recipes sorted by id.
 */
export async function loadCatalog(dir: string): Promise<CatalogEntry[]> {
  const root = path.resolve(dir)
  const problems: string[] = []
  const entries: CatalogEntry[] = []
  const folders = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()

  for (const folder of folders) {
    const recipeDir = path.join(root, folder)
    const report = (msg: string) => problems.push(`${folder}: ${msg}`)
    let json: unknown
    try {
      json = JSON.parse(await readFile(path.join(recipeDir, 'recipe.json'), 'utf8'))
    } catch (error) {
      if (isNodeError(error) && error.code === 'ENOENT') report('recipe.json: missing')
      else if (error instanceof SyntaxError) report(`recipe.json: not valid JSON (${error.message})`)
      else throw error
      continue
    }
    const { recipe, problems: recipeProblems } = validateRecipe(json)
    recipeProblems.forEach(report)
    if (!recipe) continue
    if (recipe.id !== folder) report(`id: must equal the folder name "${folder}", not "${recipe.id}"`)
    const templates = new Map<string, string>()
    if (recipe.hostable) await loadTemplates(recipe, recipeDir, templates, report)
    entries.push({ recipe, dir: recipeDir, templates })
  }
  if (folders.length === 0) problems.push(`${root}: no recipe folders`)
  if (problems.length > 0) throw new CatalogError(problems)
  return entries
}

async function loadTemplates(
  recipe: HostableRecipe,
  recipeDir: string,
  templates: Map<string, string>,
  report: (msg: string) => void,
): Promise<void> {
  const used = new Set<string>()
  const issue = (p: Path, message: string) => report(`${formatPath(p)}: ${message}`)
  // Collect the secrets used outside files too, to find declared-but-unused ones.
  for (const s of recipe.services) for (const v of Object.values(s.env)) checkTemplate(recipe, v, [], () => {}, used)
  for (const h of [...recipe.hooks, ...recipe.schedules, ...recipe.backup.dumps, ...restoreCommands(recipe)]) {
    for (const a of h.command) checkTemplate(recipe, a, [], () => {}, used)
  }
  for (const h of [...recipe.hooks, ...restoreCommands(recipe)]) for (const v of Object.values(h.env)) checkTemplate(recipe, v, [], () => {}, used)
  for (const [i, s] of recipe.services.entries()) {
    for (const [j, f] of s.files.entries()) {
      const where: Path = ['services', i, 'files', j, 'template']
      if (!templates.has(f.template)) {
        const file = path.join(recipeDir, f.template)
        const isFile = await stat(file).then(
          (st) => st.isFile(),
          (error: unknown) => {
            if (isNodeError(error) && error.code === 'ENOENT') return false
            throw error
          },
        )
        if (!isFile) {
          issue(where, `template file "${f.template}" does not exist`)
          continue
        }
        templates.set(f.template, await readFile(file, 'utf8'))
      }
      const text = templates.get(f.template) ?? ''
      checkTemplate(recipe, text, [...where.slice(0, -1), `template(${f.template})`], issue, used)
    }
  }
  for (const name of Object.keys(recipe.secrets)) {
    if (!used.has(name)) report(`secrets.${name}: declared but never used`)
  }
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error
}
