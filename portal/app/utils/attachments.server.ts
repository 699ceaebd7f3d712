import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, type ReadStream } from 'node:fs'
import { mkdir, open, rm } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'

const ODT = 'application/vnd.oasis.opendocument.text'
const ODS = 'application/vnd.oasis.opendocument.spreadsheet'
const ODP = 'application/vnd.oasis.opendocument.presentation'
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation'

/**
 * The files people may attach, for help texts and `accept` attributes. Only
 * `inline` ones may be shown in the browser; the others are downloaded.
 */
export const ATTACHMENT_TYPES = [
  { type: 'image/png', label: 'PNG', extensions: ['.png'], inline: true },
  { type: 'image/jpeg', label: 'JPEG', extensions: ['.jpg', '.jpeg'], inline: true },
  { type: 'image/gif', label: 'GIF', extensions: ['.gif'], inline: true },
  { type: 'image/webp', label: 'WebP', extensions: ['.webp'], inline: true },
  { type: 'application/pdf', label: 'PDF', extensions: ['.pdf'], inline: true },
  { type: 'text/plain', label: 'Text', extensions: ['.txt', '.log'], inline: false },
  { type: 'text/csv', label: 'CSV', extensions: ['.csv'], inline: false },
  { type: 'text/markdown', label: 'Markdown', extensions: ['.md'], inline: false },
  { type: ODT, label: 'OpenDocument text', extensions: ['.odt'], inline: false },
  { type: ODS, label: 'OpenDocument spreadsheet', extensions: ['.ods'], inline: false },
  { type: ODP, label: 'OpenDocument presentation', extensions: ['.odp'], inline: false },
  { type: DOCX, label: 'Word', extensions: ['.docx'], inline: false },
  { type: XLSX, label: 'Excel', extensions: ['.xlsx'], inline: false },
  { type: PPTX, label: 'PowerPoint', extensions: ['.pptx'], inline: false },
] as const

export type AttachmentType = (typeof ATTACHMENT_TYPES)[number]['type']

/** Every extension a file may have, for example for `<input accept>`. */
export const ATTACHMENT_EXTENSIONS: readonly string[] = ATTACHMENT_TYPES.flatMap((info) => info.extensions)

export type AttachmentErrorCode = 'too-large' | 'type-not-allowed' | 'empty'

const ERROR_KEYS = {
  'too-large': 'attachment.error.tooLarge',
  'type-not-allowed': 'attachment.error.typeNotAllowed',
  empty: 'attachment.error.empty',
} as const satisfies Record<AttachmentErrorCode, string>

export type AttachmentErrorKey = (typeof ERROR_KEYS)[AttachmentErrorCode]

/**
 * A file the person can fix by choosing another one; `key` is the message
 * shown to them, `vars` fills it (`fileName`, and `maxMegabytes` for a file
 * that is too large).
 */
export class AttachmentError extends Error {
  readonly key: AttachmentErrorKey

  constructor(
    readonly code: AttachmentErrorCode,
    readonly vars: Record<string, string> = {},
  ) {
    super(`Attachment refused: ${code}`)
    this.name = 'AttachmentError'
    this.key = ERROR_KEYS[code]
  }
}

export interface AttachmentStoreOptions {
  dir: string
  maxBytes: number
  /** Narrows ATTACHMENT_TYPES, for example to images only. */
  allowedTypes?: readonly AttachmentType[]
}

export interface NewAttachment {
  fileName: string
  /** What the browser said the type was; never trusted, the bytes decide. */
  declaredType: string
  data: AsyncIterable<Uint8Array> | Uint8Array
}

export interface SavedAttachment {
  /** Names the file on disk; random, so it says nothing about the file. */
  storageKey: string
  /** The name to show and to offer when downloading, made safe. */
  fileName: string
  /** The Content-Type to serve it with (text types carry their charset). */
  contentType: string
  size: number
  sha256: string
}

const STORAGE_KEY = /^[0-9a-f]{32}$/
const FILE_NAME_MAX = 200
/** Enough to recognise every type, including the `mimetype` entry at the start of an OpenDocument file. */
const SNIFF_BYTES = 512

/**
 * Keeps uploaded files on disk, under `dir/<2 hex>/<key>`. The type comes from
 * the file's first bytes, never from its name or the browser's word alone, and
 * a file is refused as soon as it grows past `maxBytes`, with nothing left on
 * disk.
 */
export function attachmentStore({ dir, maxBytes, allowedTypes }: AttachmentStoreOptions) {
  const root = path.resolve(dir)
  const allowed: ReadonlySet<AttachmentType> = new Set(allowedTypes ?? ATTACHMENT_TYPES.map((info) => info.type))

  function pathOf(storageKey: string): string {
    // The key may come from a URL one day; only ours can name a file.
    if (!STORAGE_KEY.test(storageKey)) throw new TypeError('Not an attachment storage key')
    return path.join(root, storageKey.slice(0, 2), storageKey)
  }

  async function save(input: NewAttachment): Promise<SavedAttachment> {
    const shownName = sanitizeFileName(input.fileName)
    const storageKey = randomBytes(16).toString('hex')
    const file = pathOf(storageKey)
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    const inspection = inspect(shownName, maxBytes, allowed)
    // Opened before anything is read, so a failure can always remove it.
    const handle = await open(file, 'wx', 0o600)
    try {
      await pipeline(chunksOf(input.data), inspection.run, handle.createWriteStream())
    } catch (error) {
      await rm(file, { force: true })
      throw error
    }
    const { type, size, sha256 } = inspection.result()
    return {
      storageKey,
      fileName: withExtensionOf(shownName, type),
      contentType: type.startsWith('text/') ? `${type}; charset=utf-8` : type,
      size,
      sha256,
    }
  }

  return {
    save,
    /** The file's bytes; a missing file shows up as an `error` event on the stream. */
    open: (storageKey: string): ReadStream => createReadStream(pathOf(storageKey)),
    /** Removing a file that is already gone is fine. */
    remove: async (storageKey: string): Promise<void> => {
      await rm(pathOf(storageKey), { force: true })
    },
    path: pathOf,
  }
}

/** May the browser show a file of this Content-Type itself, rather than download it? */
export function mayShowInline(contentType: string): boolean {
  const essence = contentType.split(';')[0]?.trim().toLowerCase()
  return ATTACHMENT_TYPES.some((info) => info.inline && info.type === essence)
}

/**
 * A Content-Disposition header value (RFC 6266): an ASCII `filename` for old
 * clients and the real name as UTF-8 in `filename*`.
 */
export function contentDisposition(fileName: string, inline: boolean): string {
  const name = sanitizeFileName(fileName)
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\%]/g, '_')
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeRfc5987(name)}`
}

/**
 * A file name fit to show and to offer for download: no folders, no control
 * or direction-changing characters, at most 200 characters with the
 * extension kept. Letters of any script stay.
 */
export function sanitizeFileName(fileName: string): string {
  const lastPart = fileName.split(/[/\\]/).findLast((part) => part.trim() !== '') ?? ''
  const cleaned = lastPart
    .normalize('NFC')
    // Lone surrogates cannot be encoded for a header.
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
    // Bidirectional overrides can make "gpj.exe" look like "exe.jpg".
    .replace(/[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim()
    // A leading dot hides a file, a trailing one is stripped by Windows.
    .replace(/^[.\s]+|[.\s]+$/g, '')
  return limitLength(cleaned || 'attachment')
}

function limitLength(name: string): string {
  const chars = Array.from(name)
  if (chars.length <= FILE_NAME_MAX) return name
  const extension = extensionOf(name)
  const keep = extension.length < 20 ? extension : ''
  return chars.slice(0, FILE_NAME_MAX - Array.from(keep).length).join('').trimEnd() + keep
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot).toLowerCase() : ''
}

/** The name with an extension that matches the type, so a saved copy opens in the right program. */
function withExtensionOf(name: string, type: AttachmentType): string {
  const info = ATTACHMENT_TYPES.find((candidate) => candidate.type === type)
  if (!info) return name
  const extensions: readonly string[] = info.extensions
  if (extensions.includes(extensionOf(name))) return name
  return limitLength(`${name}${extensions[0] ?? ''}`)
}

function encodeRfc5987(value: string): string {
  // encodeURIComponent leaves these, but RFC 5987's attr-char does not allow them.
  return encodeURIComponent(value).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
}

async function* chunksOf(data: AsyncIterable<Uint8Array> | Uint8Array): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) yield data
  else yield* data
}

/** A check that needs the whole file, fed as it streams past; false once the file is not what its start promised. */
interface ContentCheck {
  update(chunk: Uint8Array): boolean
  finish(): boolean
}

/**
 * Counts, hashes and identifies the bytes on their way to disk. Nothing is
 * written before the type is known, and reading stops at the first byte
 * over the limit.
 */
function inspect(fileName: string, maxBytes: number, allowed: ReadonlySet<AttachmentType>) {
  const hash = createHash('sha256')
  let size = 0
  let type: AttachmentType | undefined
  let check: ContentCheck | undefined

  const refuse = (code: AttachmentErrorCode) =>
    new AttachmentError(code, code === 'too-large' ? { fileName, maxMegabytes: String(Math.round((maxBytes / 1024 / 1024) * 10) / 10) } : { fileName })

  const identify = (head: Buffer) => {
    const found = identifyType(head, extensionOf(fileName))
    if (!found || !allowed.has(found.type)) throw refuse('type-not-allowed')
    type = found.type
    check = found.check
    if (check && !check.update(head)) throw refuse('type-not-allowed')
  }

  async function* run(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let head: Uint8Array[] = []
    let headSize = 0
    for await (const chunk of source) {
      size += chunk.byteLength
      if (size > maxBytes) throw refuse('too-large')
      hash.update(chunk)
      if (type) {
        if (check && !check.update(chunk)) throw refuse('type-not-allowed')
        yield chunk
        continue
      }
      head.push(chunk)
      headSize += chunk.byteLength
      if (headSize >= SNIFF_BYTES) {
        const start = Buffer.concat(head)
        head = []
        identify(start)
        yield start
      }
    }
    if (size === 0) throw refuse('empty')
    if (!type) {
      const start = Buffer.concat(head)
      identify(start)
      yield start
    }
    if (check && !check.finish()) throw refuse('type-not-allowed')
  }

  return {
    run,
    result() {
      if (!type) throw new Error('The attachment was not inspected to the end')
      return { type, size, sha256: hash.digest('hex') }
    },
  }
}

const ODF_TYPES: Readonly<Record<string, AttachmentType>> = { '.odt': ODT, '.ods': ODS, '.odp': ODP }
const OOXML_TYPES: Readonly<Record<string, AttachmentType>> = { '.docx': DOCX, '.xlsx': XLSX, '.pptx': PPTX }
const TEXT_TYPES: Readonly<Record<string, AttachmentType>> = { '.txt': 'text/plain', '.log': 'text/plain', '.csv': 'text/csv', '.md': 'text/markdown' }

function startsWith(head: Buffer, bytes: readonly number[] | string, offset = 0): boolean {
  const expected = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes)
  return head.length >= offset + expected.length && head.subarray(offset, offset + expected.length).equals(expected)
}

/** What the first bytes (and, for zip and text files, the name) say the file is; undefined when we do not take it. */
function identifyType(head: Buffer, extension: string): { type: AttachmentType; check?: ContentCheck } | undefined {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { type: 'image/png' }
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { type: 'image/jpeg' }
  if (startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a')) return { type: 'image/gif' }
  if (startsWith(head, 'RIFF') && startsWith(head, 'WEBP', 8)) return { type: 'image/webp' }
  if (startsWith(head, '%PDF-')) return { type: 'application/pdf' }
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    // OpenDocument puts its type, uncompressed, in a first entry called "mimetype".
    const declared = odfMimetype(head)
    if (declared) return { type: declared }
    const odf = ODF_TYPES[extension]
    if (odf) return { type: odf, check: containsEntry('META-INF/manifest.xml') }
    const ooxml = OOXML_TYPES[extension]
    if (ooxml) return { type: ooxml, check: containsEntry('[Content_Types].xml') }
    return undefined
  }
  const text = TEXT_TYPES[extension]
  if (text && !looksLikeMarkupOrScript(head)) return { type: text, check: utf8Text() }
  return undefined
}

function odfMimetype(head: Buffer): AttachmentType | undefined {
  // Local file header: method at 8, compressed size at 18, name length at 26, extra length at 28.
  if (head.length < 30 || head.readUInt16LE(8) !== 0) return undefined
  const nameLength = head.readUInt16LE(26)
  const extraLength = head.readUInt16LE(28)
  const dataLength = head.readUInt32LE(18)
  const nameStart = 30
  const dataStart = nameStart + nameLength + extraLength
  if (head.toString('latin1', nameStart, nameStart + nameLength) !== 'mimetype' || dataStart + dataLength > head.length) return undefined
  const declared = head.toString('latin1', dataStart, dataStart + dataLength)
  return Object.values(ODF_TYPES).find((type) => type === declared)
}

/**
 * Zip stores entry names uncompressed (and again in the directory at its
 * end), so a real document contains its marker entry's name somewhere.
 */
function containsEntry(name: string): ContentCheck {
  const marker = Buffer.from(name, 'latin1')
  let tail = Buffer.alloc(0)
  let found = false
  return {
    update(chunk) {
      if (found) return true
      const window = Buffer.concat([tail, chunk])
      found = window.includes(marker)
      tail = window.subarray(Math.max(0, window.length - marker.length + 1))
      return true
    },
    finish: () => found,
  }
}

/** UTF-8 without NUL bytes, checked across the whole file, not just its start. */
function utf8Text(): ContentCheck {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  // A fatal decoder throws at the first byte that is not UTF-8.
  const decodes = (chunk?: Uint8Array) => {
    try {
      decoder.decode(chunk, { stream: chunk !== undefined })
      return true
    } catch {
      return false
    }
  }
  return {
    update: (chunk) => !chunk.includes(0) && decodes(chunk),
    finish: () => decodes(),
  }
}

/**
 * Text a browser would take for HTML or XML (SVG), or a script with a #!
 * line: refused even with a text extension, so a mistake in how files are
 * served cannot turn an upload into a page.
 */
function looksLikeMarkupOrScript(head: Buffer): boolean {
  const start = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase()
  if (start.startsWith('#!') || start.startsWith('<?xml') || start.startsWith('<!--')) return true
  return /^<(!doctype html|html|head|body|script|iframe|svg|h1|div|font|table|a|style|title|b|br|p)[\s>/]/.test(start)
}
