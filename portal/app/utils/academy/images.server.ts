import path from 'node:path'
import {
  unstable_composeUploadHandlers as composeUploadHandlers,
  unstable_createMemoryUploadHandler as createMemoryUploadHandler,
  unstable_parseMultipartFormData as parseMultipartFormData,
} from '@remix-run/node'
import { repoRoot } from '../../../server/database'
import { AttachmentError, attachmentStore, type SavedAttachment } from '../attachments.server'
import { env } from '../env.server'
import { logger } from '../logger.server'
import { LESSON_IMAGE_TYPES } from './studio-forms'


let store: ReturnType<typeof attachmentStore> | undefined

/** Lesson images, beside the helpdesk's attachments (ATTACHMENTS_DIR) in a folder of their own, as large as ATTACHMENT_MAX_MB. */
export function courseImageStore() {
  store ??= attachmentStore({
    dir: path.join(env().ATTACHMENTS_DIR ?? path.join(repoRoot, '.data', 'attachments'), 'academy-images'),
    maxBytes: env().ATTACHMENT_MAX_MB * 1024 * 1024,
    allowedTypes: LESSON_IMAGE_TYPES,
  })
  return store
}

async function drain(data: AsyncIterable<Uint8Array>) {
  for await (const chunk of data) void chunk
}

/**
 * Reads the image upload form: the file (field `image`) streams into the
 * store, checked by its bytes and size; the text fields stay in memory. A
 * caller that does not keep the stored file must `discardImage` it.
 */
export async function readImageForm(request: Request): Promise<{ formData: FormData; stored: SavedAttachment | null; refused: AttachmentError | null; missing: boolean }> {
  // One object, because the handler below fills it in while the form is read.
  const upload: { stored: SavedAttachment | null; refused: AttachmentError | null; missing: boolean } = { stored: null, refused: null, missing: true }
  const fileHandler = async ({ name, filename, contentType, data }: { name: string; filename?: string; contentType: string; data: AsyncIterable<Uint8Array> }) => {
    if (name !== 'image' || filename === undefined) return undefined
    // An empty file input still sends a part, without a name; a second file is not read.
    if (filename === '' || upload.stored || upload.refused) {
      await drain(data)
      return null
    }
    upload.missing = false
    try {
      const saved = await courseImageStore().save({ fileName: filename, declaredType: contentType, data })
      upload.stored = saved
      return saved.storageKey
    } catch (error) {
      if (!(error instanceof AttachmentError)) throw error
      await drain(data)
      upload.refused = error
      return null
    }
  }
  try {
    const formData = await parseMultipartFormData(request, composeUploadHandlers(fileHandler, createMemoryUploadHandler({ maxPartSize: 16 * 1024 })))
    return { formData, ...upload }
  } catch (error) {
    if (upload.stored) await discardImage(upload.stored)
    throw error
  }
}

/** Removes a stored file that was not recorded after all. */
export async function discardImage(file: SavedAttachment) {
  await courseImageStore()
    .remove(file.storageKey)
    .catch((error: unknown) => logger.warn({ err: error, storageKey: file.storageKey }, 'could not remove an unused course image'))
}
