import { createHash } from 'node:crypto'
import type { CatalogEntry } from '@commons/catalog'
import { Recipe } from '@commons/catalog'
import type pg from 'pg'

/** The digest of what a recipe version is: its recipe and its config templates. */
export function entryDigest(entry: CatalogEntry): string {
  const templates = [...entry.templates.entries()].sort(([a], [b]) => a.localeCompare(b))
  return createHash('sha256').update(JSON.stringify([entry.recipe, templates])).digest('hex')
}

/** The recipe versions each instance has run, kept so it can stay on one while the catalog moves on. */
export class RecipeStore {
  readonly #digests = new Map<string, string>()

  constructor(readonly pool: pg.Pool) {}

  /** Stores (or refreshes) the instance's copy of this recipe version; a no-op when nothing changed. */
  async keep(instanceId: string, entry: CatalogEntry): Promise<void> {
    const digest = entryDigest(entry)
    const key = `${instanceId}@${entry.recipe.version}`
    if (this.#digests.get(key) === digest) return
    await this.pool.query(
      `INSERT INTO instance_recipes (instance_id, version, recipe, templates, digest) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (instance_id, version) DO UPDATE SET recipe = EXCLUDED.recipe, templates = EXCLUDED.templates, digest = EXCLUDED.digest, stored_at = now()
       WHERE instance_recipes.digest <> EXCLUDED.digest`,
      [instanceId, entry.recipe.version, JSON.stringify(entry.recipe), JSON.stringify(Object.fromEntries(entry.templates)), digest],
    )
    this.#digests.set(key, digest)
  }

  /** The instance's copy of a recipe version, as a catalog entry (validated again: it is read back from storage). */
  async get(instanceId: string, version: string): Promise<CatalogEntry | undefined> {
    const { rows } = await this.pool.query<{ recipe: string; templates: string }>(
      'SELECT recipe, templates FROM instance_recipes WHERE instance_id = $1 AND version = $2',
      [instanceId, version],
    )
    const row = rows[0]
    if (!row) return undefined
    return { recipe: Recipe.parse(JSON.parse(row.recipe)), dir: '', templates: new Map(Object.entries(JSON.parse(row.templates) as Record<string, string>)) }
  }
}
