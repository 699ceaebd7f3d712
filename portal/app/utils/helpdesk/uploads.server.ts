import {
  unstable_composeUploadHandlers as composeUploadHandlers,
  unstable_createMemoryUploadHandler as createMemoryUploadHandler,
  unstable_parseMultipartFormData as parseMultipartFormData,
} from '@remix-run/node'
import { AttachmentError } from '../attachments.server'
import { logger } from '../logger.server'
import { attachments } from './settings.server'
import { MAX_ATTACHMENTS } from './ticket-forms'
import type { StoredAttachment } from './tickets.server'

export interface RefusedFile {
  fileName: string
  reason: 'too-large' | 'type-not-allowed' | 'empty' | 'too-many'
}

/** Reads what is left of an upload that will not be stored, so the rest of the form still arrives. */
async function drain(data: AsyncIterable<Uint8Array>) {
  for await (const chunk of data) void chunk
}

/**
 * Reads a ticket form with attachments. Files stream straight into the
 * attachment store (checked by size and by their content, not by what the
 * browser claims); text fields stay in memory. Refused files are listed,
 * the rest of the form still arrives, and a caller that ends up not using
 * the stored files must `discard` them.
 */
export async function readTicketForm(request: Request) {
  const stored: StoredAttachment[] = []
  const refused: RefusedFile[] = []
  const fileHandler = async ({ name, filename, contentType, data }: { name: string; filename?: string; contentType: string; data: AsyncIterable<Uint8Array> }) => {
    if (name !== 'attachments' || filename === undefined) return undefined
    // An empty file input still sends a part without a name.
    if (filename === '') {
      await drain(data)
      return null
    }
    if (stored.length >= MAX_ATTACHMENTS) {
      await drain(data)
      refused.push({ fileName: filename, reason: 'too-many' })
      return null
    }
    try {
      const saved = await attachments().save({ fileName: filename, declaredType: contentType, data })
      stored.push(saved)
      return saved.storageKey
    } catch (error) {
      if (!(error instanceof AttachmentError)) throw error
      await drain(data)
      refused.push({ fileName: filename, reason: error.code })
      return null
    }
  }
  let formData: FormData
  try {
    formData = await parseMultipartFormData(request, composeUploadHandlers(fileHandler, createMemoryUploadHandler({ maxPartSize: 256 * 1024 })))
  } catch (error) {
    await discard(stored)
    throw error
  }
  return { formData, stored, refused }
}

/** Removes files stored for a form that was refused after all. */
export async function discard(files: StoredAttachment[]) {
  for (const f of files) {
    await attachments()
      .remove(f.storageKey)
      .catch((error: unknown) => logger.warn({ err: error, storageKey: f.storageKey }, 'could not remove an unused attachment'))
  }
}
