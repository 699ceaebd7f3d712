import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ATTACHMENT_TYPES,
  AttachmentError,
  attachmentStore,
  contentDisposition,
  mayShowInline,
  sanitizeFileName,
  type AttachmentErrorCode,
} from './attachments.server'

let dir: string
let store: ReturnType<typeof attachmentStore>
const MAX_BYTES = 64 * 1024

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'attachments-test-'))
  store = attachmentStore({ dir, maxBytes: MAX_BYTES })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const bytes = (...parts: (string | number[] | Uint8Array)[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))))

// Real starts of real formats, padded out so they are more than a sniff's worth.
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], 'IHDR', new Uint8Array(1000).fill(7))
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF', new Uint8Array(100))
const GIF = bytes('GIF89a', [1, 0, 1, 0, 0x80, 0, 0], new Uint8Array(20))
const WEBP = bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ', new Uint8Array(30))
const PDF = bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')
const ELF = bytes([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], new Uint8Array(600))

/** A zip local file header for a stored (uncompressed) entry, as OpenDocument writes its first one. */
function zipEntry(name: string, content: string) {
  const header = Buffer.alloc(30)
  header.writeUInt32LE(0x04034b50, 0)
  header.writeUInt16LE(10, 4)
  header.writeUInt16LE(0, 8) // stored
  header.writeUInt32LE(content.length, 18)
  header.writeUInt32LE(content.length, 22)
  header.writeUInt16LE(name.length, 26)
  header.writeUInt16LE(0, 28)
  return bytes(header, name, content)
}

async function* inChunks(data: Uint8Array, size: number) {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size)
}

async function filesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name))
}

async function readBack(storageKey: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of store.open(storageKey)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

async function refusal(promise: Promise<unknown>): Promise<AttachmentError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof AttachmentError)) throw new Error(`expected an AttachmentError, got ${String(error)}`)
  return error
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

describe('saving attachments', () => {
  it('stores a PNG under a random key, with its hash and sniffed type', async () => {
    const saved = await store.save({ fileName: 'screenshot.png', declaredType: 'image/png', data: PNG })
    expect(saved).toEqual({ storageKey: expect.stringMatching(/^[0-9a-f]{32}$/), fileName: 'screenshot.png', contentType: 'image/png', size: PNG.length, sha256: sha256(PNG) })
    const file = store.path(saved.storageKey)
    expect(file).toBe(path.join(dir, saved.storageKey.slice(0, 2), saved.storageKey))
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await readBack(saved.storageKey)).toEqual(PNG)
  })

  it('gives every file its own key', async () => {
    const first = await store.save({ fileName: 'a.png', declaredType: 'image/png', data: PNG })
    const second = await store.save({ fileName: 'a.png', declaredType: 'image/png', data: PNG })
    expect(first.storageKey).not.toBe(second.storageKey)
  })

  it('decides the type from the bytes, not from what the browser said', async () => {
    const saved = await store.save({ fileName: 'report.pdf', declaredType: 'text/html', data: PDF })
    expect(saved.contentType).toBe('application/pdf')
    expect(await readBack(saved.storageKey)).toEqual(PDF)
  })

  it('recognises JPEG, GIF and WebP', async () => {
    expect((await store.save({ fileName: 'a.jpg', declaredType: '', data: JPEG })).contentType).toBe('image/jpeg')
    expect((await store.save({ fileName: 'a.gif', declaredType: '', data: GIF })).contentType).toBe('image/gif')
    expect((await store.save({ fileName: 'a.webp', declaredType: '', data: WEBP })).contentType).toBe('image/webp')
  })

  it('takes UTF-8 text files by their extension, streamed in pieces', async () => {
    const text = bytes('Foutmelding om 09:14 — “kan niet verbinden”\n'.repeat(200))
    const saved = await store.save({ fileName: 'error.log', declaredType: 'application/octet-stream', data: inChunks(text, 7) })
    expect(saved).toMatchObject({ fileName: 'error.log', contentType: 'text/plain; charset=utf-8', size: text.length, sha256: sha256(text) })
    expect(await readBack(saved.storageKey)).toEqual(text)
    const csv = await store.save({ fileName: 'members.csv', declaredType: 'text/csv', data: bytes('name;role\nAda;admin\n') })
    expect(csv.contentType).toBe('text/csv; charset=utf-8')
  })

  it('recognises an OpenDocument file by its mimetype entry, and fixes a wrong extension', async () => {
    const odt = bytes(zipEntry('mimetype', 'application/vnd.oasis.opendocument.text'), zipEntry('content.xml', '<office:document-content/>'))
    const saved = await store.save({ fileName: 'notulen.zip', declaredType: 'application/zip', data: odt })
    expect(saved.contentType).toBe('application/vnd.oasis.opendocument.text')
    expect(saved.fileName).toBe('notulen.zip.odt')
  })

  it('takes an OOXML file by its extension when it holds a [Content_Types].xml entry', async () => {
    const docx = bytes(zipEntry('[Content_Types].xml', '<Types/>'), zipEntry('word/document.xml', '<w:document/>'))
    const saved = await store.save({ fileName: 'Offerte.docx', declaredType: '', data: inChunks(docx, 5) })
    expect(saved.contentType).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document')
  })

  it('only takes the types it was given', async () => {
    const imagesOnly = attachmentStore({ dir, maxBytes: MAX_BYTES, allowedTypes: ['image/png'] })
    expect((await imagesOnly.save({ fileName: 'a.png', declaredType: '', data: PNG })).contentType).toBe('image/png')
    expect((await refusal(imagesOnly.save({ fileName: 'a.pdf', declaredType: '', data: PDF }))).code).toBe('type-not-allowed')
  })
})

describe('refusing attachments', () => {
  let before: string[]
  beforeAll(async () => {
    before = await filesIn(dir)
  })

  it.each<[string, string, Uint8Array | (() => AsyncIterable<Uint8Array>), AttachmentErrorCode]>([
    ['an HTML page named .png', 'cat.png', bytes('<!DOCTYPE html><html><script>alert(1)</script></html>'), 'type-not-allowed'],
    ['an HTML page named .txt', 'notes.txt', bytes('\uFEFF  <html><body onload=alert(1)>'), 'type-not-allowed'],
    ['an SVG', 'logo.svg', bytes('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'type-not-allowed'],
    ['an SVG named .txt', 'logo.txt', bytes('<?xml version="1.0"?><svg/>'), 'type-not-allowed'],
    ['an ELF binary', 'tool.pdf', ELF, 'type-not-allowed'],
    ['a Windows executable', 'setup.exe', bytes('MZ', new Uint8Array(600)), 'type-not-allowed'],
    ['a shell script named .txt', 'run.txt', bytes('#!/bin/sh\nrm -rf /\n'), 'type-not-allowed'],
    ['a script with its own extension', 'run.sh', bytes('echo hello\n'), 'type-not-allowed'],
    ['a plain zip', 'archive.zip', bytes(zipEntry('a.exe', 'MZ')), 'type-not-allowed'],
    ['a zip named .docx without [Content_Types].xml', 'fake.docx', bytes(zipEntry('a.exe', 'MZ'.padEnd(800, 'x'))), 'type-not-allowed'],
    ['text with a NUL byte late in the file', 'a.txt', () => inChunks(bytes('a'.repeat(2000), [0], 'b'), 300), 'type-not-allowed'],
    ['text that is not UTF-8', 'a.txt', bytes('caf', [0xe9], ' au lait'), 'type-not-allowed'],
    ['text cut in the middle of a character', 'a.txt', bytes('caf', [0xc3]), 'type-not-allowed'],
    ['an empty file', 'empty.png', new Uint8Array(0), 'empty'],
    ['an empty stream', 'empty.txt', () => inChunks(new Uint8Array(0), 10), 'empty'],
  ])('refuses %s', async (_name, fileName, data, code) => {
    const error = await refusal(store.save({ fileName, declaredType: 'image/png', data: typeof data === 'function' ? data() : data }))
    expect(error.code).toBe(code)
    expect(error.key).toMatch(/^attachment\.error\./)
    expect(error.vars.fileName).toBe(fileName)
    expect(await filesIn(dir)).toEqual(before)
  })

  it('stops reading a stream that grows too large and removes what it wrote', async () => {
    const small = attachmentStore({ dir, maxBytes: 4096 })
    let chunksRead = 0
    async function* endless() {
      yield PNG.subarray(0, 1000)
      for (;;) {
        chunksRead++
        yield new Uint8Array(1000)
      }
    }
    const error = await refusal(small.save({ fileName: 'huge.png', declaredType: 'image/png', data: endless() }))
    expect(error.code).toBe('too-large')
    expect(error.key).toBe('attachment.error.tooLarge')
    expect(chunksRead).toBeLessThan(10)
    expect(await filesIn(dir)).toEqual(before)
  })

  it('takes a file of exactly maxBytes', async () => {
    const exact = attachmentStore({ dir, maxBytes: PNG.length })
    const saved = await exact.save({ fileName: 'exact.png', declaredType: '', data: inChunks(PNG, 100) })
    expect(saved.size).toBe(PNG.length)
    await exact.remove(saved.storageKey)
  })
})

describe('file names', () => {
  it.each([
    ['../../etc/passwd.txt', 'passwd.txt'],
    ['..\\x.png', 'x.png'],
    ['C:\\Users\\ada\\Desktop\\scan.pdf', 'scan.pdf'],
    ['/absolute/path/', 'path'],
    ['..', 'attachment'],
    ['', 'attachment'],
    ['.hidden.txt', 'hidden.txt'],
    ['bad\u0000na\r\nme\t.txt', 'badname.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['Überweisung für Ærø — 東京 😀.pdf', 'Überweisung für Ærø — 東京 😀.pdf'],
    ['Cafe\u0301.txt', 'Café.txt'],
  ])('shows %j as %j', (input, shown) => {
    expect(sanitizeFileName(input)).toBe(shown)
  })

  it('keeps the extension when cutting a long name to 200 characters', () => {
    const name = sanitizeFileName(`${'ä'.repeat(300)}.docx`)
    expect(Array.from(name)).toHaveLength(200)
    expect(name.endsWith('.docx')).toBe(true)
  })

  it('never lets a file name choose where the file goes', async () => {
    const text = bytes('hello\n')
    for (const fileName of ['../../etc/passwd.txt', '..\\..\\x.txt', '/tmp/evil.txt']) {
      const saved = await store.save({ fileName, declaredType: 'text/plain', data: text })
      const file = store.path(saved.storageKey)
      expect(path.relative(dir, file).startsWith('..')).toBe(false)
      expect(file).not.toContain(saved.fileName)
      expect(saved.fileName).not.toMatch(/[/\\]/)
    }
    for (const file of await filesIn(dir)) expect(path.relative(dir, file)).toMatch(/^[0-9a-f]{2}[/\\][0-9a-f]{32}$/)
  })

  it('refuses a storage key that is not one of ours', () => {
    expect(() => store.path('../../etc/passwd')).toThrow(TypeError)
    expect(() => store.open('abc')).toThrow(TypeError)
  })
})

describe('reading and removing', () => {
  it('streams back the exact bytes of a file saved in pieces', async () => {
    const data = bytes(PNG, new Uint8Array(20_000).map((_, i) => i % 251))
    const saved = await store.save({ fileName: 'big.png', declaredType: '', data: inChunks(data, 333) })
    const back = await readBack(saved.storageKey)
    expect(sha256(back)).toBe(saved.sha256)
    expect(back.equals(data)).toBe(true)
  })

  it('removes a file, and removing it again is fine', async () => {
    const saved = await store.save({ fileName: 'gone.png', declaredType: '', data: PNG })
    await store.remove(saved.storageKey)
    await expect(stat(store.path(saved.storageKey))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(store.remove(saved.storageKey)).resolves.toBeUndefined()
  })
})

describe('serving', () => {
  it('lets only images and PDF show inline', () => {
    expect(mayShowInline('image/png')).toBe(true)
    expect(mayShowInline('application/pdf')).toBe(true)
    expect(mayShowInline('text/plain; charset=utf-8')).toBe(false)
    expect(mayShowInline('image/svg+xml')).toBe(false)
    expect(mayShowInline('text/html')).toBe(false)
    expect(ATTACHMENT_TYPES.filter((info) => info.inline).map((info) => info.type)).toEqual(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'])
  })

  it('writes a Content-Disposition that quotes, newlines and non-ASCII cannot break', () => {
    const header = contentDisposition('Offerte "definitief"\r\nSet-Cookie: x=1; Überweisung.pdf', false)
    expect(header).not.toMatch(/[\r\n]/)
    expect(header).toBe(
      'attachment; filename="Offerte _definitief_Set-Cookie: x=1; Uberweisung.pdf"; ' +
        "filename*=UTF-8''Offerte%20%22definitief%22Set-Cookie%3A%20x%3D1%3B%20%C3%9Cberweisung.pdf",
    )
    // Only one quoted string, so a client cannot be fooled about where the name ends.
    expect(header.match(/"/g)).toHaveLength(2)
    expect(decodeURIComponent(header.split("UTF-8''")[1] ?? '')).toBe('Offerte "definitief"Set-Cookie: x=1; Überweisung.pdf')
  })

  it('encodes the characters RFC 5987 does not allow bare, and marks inline files', () => {
    const header = contentDisposition("it's (1)*.png", true)
    expect(header).toBe(`inline; filename="it's (1)*.png"; filename*=UTF-8''it%27s%20%281%29%2A.png`)
    expect(contentDisposition('東京.pdf', false)).toBe(`attachment; filename="__.pdf"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.pdf`)
  })
})
