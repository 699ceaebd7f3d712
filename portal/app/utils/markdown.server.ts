import { micromark } from 'micromark'
import { gfm, gfmHtml } from 'micromark-extension-gfm'

/**
 * Sources are cut to this many characters before parsing. Forms should refuse
 * longer text; this guards the pages against text that came in another way
 * (mail, imports), because rendering runs on every view and some inputs
 * (deeply nested brackets or emphasis) cost more than linear time.
 */
export const MARKDOWN_MAX_LENGTH = 100_000

export interface RenderMarkdownOptions {
  /**
   * Origins such as `https://portal.example.coop` that count as ours: links to
   * them are internal, and images on them may be shown. Relative URLs always
   * count as ours.
   */
  allowedOrigins?: readonly string[]
  /**
   * May an image on another origin be loaded? The default is no: loading it
   * would tell a third party the reader's address, and the portal promises
   * not to make third-party requests. A refused image becomes a link.
   */
  allowImage?: (url: URL) => boolean
}

export interface MarkdownToTextOptions {
  /** Relative links are written out against this URL, so they work in a mail. */
  baseUrl?: string
}

const REL_EXTERNAL = 'nofollow noopener noreferrer'
const SCHEME = /^([a-z][a-z0-9+.-]*):/i
const LINK_SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'mailto'])
const IMAGE_SCHEMES: ReadonlySet<string> = new Set(['http', 'https'])
// Relative URLs are resolved against a host that cannot exist (RFC 2606), so
// one that still lands there was relative, and `//elsewhere` was not.
const LOCAL_BASE = new URL('https://portal.invalid/')

/**
 * Markdown written by people (tickets, replies, lessons) as HTML that is safe
 * to put in a page: raw HTML is shown as text, URLs other than http(s),
 * mailto and relative ones are dropped, external links carry
 * `rel="nofollow noopener noreferrer"`, and images elsewhere are not loaded.
 */
export function renderMarkdown(source: string, options: RenderMarkdownOptions = {}): string {
  const origins = new Set((options.allowedOrigins ?? []).map((origin) => new URL(origin).origin))
  const allowImage = options.allowImage ?? (() => false)
  const out: string[] = []
  // One entry per <a> micromark opened: did we keep it? Its </a> follows suit.
  const links: boolean[] = []
  const inLink = () => links.includes(true)

  for (const piece of pieces(source)) {
    if (piece.kind === 'text') {
      out.push(escapeHtml(piece.text))
      continue
    }
    const { tag, attributes } = piece
    if (piece.kind === 'close') {
      if (tag === 'a') {
        if (links.pop()) out.push('</a>')
      } else if (KEPT_TAGS.has(tag) && !VOID_TAGS.has(tag)) {
        out.push(`</${tag}>`)
      }
      continue
    }
    switch (tag) {
      case 'a': {
        const target = inLink() ? undefined : destination(attributes.href, LINK_SCHEMES, origins)
        links.push(target !== undefined)
        if (target) out.push(`<a${linkAttributes(target, attributes.title)}>`)
        break
      }
      case 'img': {
        const alt = attributes.alt ?? ''
        const target = destination(attributes.src, IMAGE_SCHEMES, origins)
        if (target && (target.local || allowImage(target.url))) {
          out.push(`<img src="${escapeHtml(target.href)}" alt="${escapeHtml(alt)}"${titleAttribute(attributes.title)} />`)
        } else if (target && !inLink()) {
          out.push(`<a${linkAttributes(target, attributes.title)}>${escapeHtml(alt || target.href)}</a>`)
        } else {
          out.push(escapeHtml(alt))
        }
        break
      }
      case 'input':
        // Task list items are the only inputs micromark writes.
        if (attributes.type === 'checkbox') out.push(`<input type="checkbox" disabled=""${'checked' in attributes ? ' checked=""' : ''} />`)
        break
      case 'ol':
        out.push(attributes.start && /^\d{1,9}$/.test(attributes.start) ? `<ol start="${attributes.start}">` : '<ol>')
        break
      case 'code':
        out.push(attributes.class?.startsWith('language-') ? `<code class="${escapeHtml(attributes.class)}">` : '<code>')
        break
      case 'th':
      case 'td':
        out.push(attributes.align && ALIGNMENTS.has(attributes.align) ? `<${tag} align="${attributes.align}">` : `<${tag}>`)
        break
      default:
        // Anything else micromark might write one day is dropped, its text kept.
        if (KEPT_TAGS.has(tag)) out.push(VOID_TAGS.has(tag) ? `<${tag} />` : `<${tag}>`)
    }
  }
  return out.join('')
}

/**
 * The text of some Markdown without markup, for mail bodies and the search
 * index: links become "text (url)", list items keep a bullet, table cells are
 * separated by " | ". The result is plain text, not HTML: escape it where it
 * goes into a page.
 */
export function markdownToText(source: string, options: MarkdownToTextOptions = {}): string {
  const base = options.baseUrl ? new URL(options.baseUrl) : undefined
  const root: TextBlock = { kind: 'root', parts: [], inline: '' }
  const stack: TextBlock[] = [root]
  const current = () => stack[stack.length - 1] ?? root
  let preformatted = false

  const written = (target: Destination) => (base && !SCHEME.test(target.href) ? new URL(target.href, base).href : target.href)
  // Ends the paragraph being read: it becomes one part of its block.
  const flush = (block: TextBlock) => {
    const text = preformatted ? block.inline.replace(/\n$/, '') : block.inline.trim()
    if (text) block.parts.push(text)
    block.inline = ''
  }
  const open = (kind: TextBlock['kind'], extra: Partial<TextBlock> = {}) => {
    flush(current())
    stack.push({ kind, parts: [], inline: '', ...extra })
  }
  const close = () => {
    const block = current()
    if (stack.length === 1) return
    flush(block)
    stack.pop()
    const text = formatBlock(block)
    // An empty cell still holds its place in the row.
    if (text || block.kind === 'cell') current().parts.push(text)
  }

  for (const piece of pieces(source)) {
    if (piece.kind === 'text') {
      current().inline += piece.text
      continue
    }
    const { tag, attributes } = piece
    if (piece.kind === 'open') {
      switch (tag) {
        case 'ul':
          open('list')
          break
        case 'ol':
          open('list', { next: attributes.start && /^\d+$/.test(attributes.start) ? Number(attributes.start) : 1 })
          break
        case 'li': {
          const list = current()
          open('item', { marker: list.next === undefined ? '- ' : `${list.next++}. ` })
          break
        }
        case 'blockquote':
          open('quote')
          break
        case 'table':
          open('table')
          break
        case 'tr':
          open('row')
          break
        case 'th':
        case 'td':
          open('cell')
          break
        case 'a':
          // A link is part of its paragraph, so it does not end it.
          stack.push({ kind: 'link', parts: [], inline: '', href: attributes.href })
          break
        case 'pre':
          flush(current())
          preformatted = true
          break
        case 'input':
          current().inline += 'checked' in attributes ? '[x]' : '[ ]'
          break
        case 'img': {
          const alt = attributes.alt ?? ''
          const target = destination(attributes.src, IMAGE_SCHEMES, new Set())
          const url = target && current().kind !== 'link' ? written(target) : undefined
          current().inline += url ? (alt ? `${alt} (${url})` : url) : alt
          break
        }
        default:
          if (BLOCK_TAGS.has(tag)) flush(current())
      }
      continue
    }
    switch (tag) {
      case 'ul':
      case 'ol':
      case 'li':
      case 'blockquote':
      case 'table':
      case 'tr':
      case 'th':
      case 'td':
        close()
        break
      case 'a': {
        const link = current()
        if (link.kind !== 'link') break
        stack.pop()
        const text = link.inline
        const target = destination(link.href, LINK_SCHEMES, new Set())
        const url = target && written(target)
        // An autolink already shows its URL.
        const plain = !url || text === url.replace(/^(https?:\/\/|mailto:)/, '') || text === url
        current().inline += plain ? text : text ? `${text} (${url})` : url
        break
      }
      case 'pre':
        flush(current())
        preformatted = false
        break
      default:
        if (BLOCK_TAGS.has(tag)) flush(current())
    }
  }
  while (stack.length > 1) close()
  flush(root)
  return root.parts
    .join('\n\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

const BLOCK_TAGS: ReadonlySet<string> = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr'])

interface TextBlock {
  kind: 'root' | 'list' | 'item' | 'quote' | 'table' | 'row' | 'cell' | 'link'
  /** Finished pieces: paragraphs, items, rows or cells. */
  parts: string[]
  /** Text of the paragraph being read. */
  inline: string
  /** The next number of an ordered list. */
  next?: number
  marker?: string
  href?: string
}

function formatBlock(block: TextBlock): string {
  switch (block.kind) {
    case 'item': {
      const marker = block.marker ?? '- '
      const indent = ' '.repeat(marker.length)
      const lines = block.parts.join('\n').split('\n')
      return lines.map((line, index) => (index === 0 ? marker : line ? indent : '') + line).join('\n')
    }
    case 'quote':
      return block.parts
        .join('\n\n')
        .split('\n')
        .map((line) => (line ? `> ${line}` : '>'))
        .join('\n')
    case 'row':
      return block.parts.join(' | ')
    case 'list':
    case 'table':
      return block.parts.join('\n')
    default:
      return block.parts.join('\n\n')
  }
}

type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'open' | 'close'; tag: string; attributes: Partial<Record<string, string>> }

/**
 * micromark's HTML cut into text and tags, entities decoded. Raw HTML in the
 * source comes out escaped, so every tag here is one micromark wrote itself:
 * double-quoted attributes, no `<` or `>` inside them. Whatever does not look
 * like that is treated as text, and so comes out escaped again.
 */
function* pieces(source: string): Generator<Piece> {
  const html = micromark(limit(source), {
    allowDangerousHtml: false,
    allowDangerousProtocol: false,
    extensions: [
      gfm(),
      // Footnote ids would clash between the replies on one ticket page, and
      // the section heading micromark adds is English only.
      { disable: { null: ['gfmFootnoteDefinition', 'gfmFootnoteCall', 'gfmPotentialFootnoteCall'] } },
    ],
    htmlExtensions: [gfmHtml()],
  })
  const tagPattern = /<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z][a-z-]*(?:="[^"<>]*")?)*)\s*\/?>/g
  let last = 0
  for (const match of html.matchAll(tagPattern)) {
    if (match.index > last) yield { kind: 'text', text: decodeEntities(html.slice(last, match.index)) }
    last = match.index + match[0].length
    const attributes: Partial<Record<string, string>> = {}
    for (const [, name, value] of (match[3] ?? '').matchAll(/\s+([a-z][a-z-]*)(?:="([^"<>]*)")?/g)) {
      if (name) attributes[name] = decodeEntities(value ?? '')
    }
    yield { kind: match[1] ? 'close' : 'open', tag: match[2] ?? '', attributes }
  }
  if (last < html.length) yield { kind: 'text', text: decodeEntities(html.slice(last)) }
}

function limit(source: string): string {
  if (source.length <= MARKDOWN_MAX_LENGTH) return source
  let end = MARKDOWN_MAX_LENGTH
  // Do not split a surrogate pair.
  const last = source.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end -= 1
  return `${source.slice(0, end)}\n\n…`
}

const KEPT_TAGS: ReadonlySet<string> = new Set([
  'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'ul', 'ol', 'li', 'pre', 'code',
  'em', 'strong', 'del', 'hr', 'br', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
])
const VOID_TAGS: ReadonlySet<string> = new Set(['hr', 'br'])
const ALIGNMENTS: ReadonlySet<string> = new Set(['left', 'center', 'right'])

interface Destination {
  /** The URL as written, to put in the page. */
  href: string
  url: URL
  relative: boolean
  /** Relative, or on one of the allowed origins. */
  local: boolean
}

/** Where a link or image may point, or undefined when it may not be followed at all. */
function destination(raw: string | undefined, schemes: ReadonlySet<string>, origins: ReadonlySet<string>): Destination | undefined {
  // micromark percent-encodes white space, control characters and
  // backslashes, and writes an empty URL for a protocol it refused; any of
  // them here means something we did not expect, so the link goes.
  if (!raw || /[\s\u0000-\u001f\u007f-\u009f\\]/.test(raw)) return undefined
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase()
  if (scheme !== undefined && !schemes.has(scheme)) return undefined
  let url: URL
  try {
    url = new URL(raw, LOCAL_BASE)
  } catch {
    return undefined
  }
  if (!schemes.has(url.protocol.slice(0, -1))) return undefined
  const relative = scheme === undefined && url.origin === LOCAL_BASE.origin
  return { href: raw, url, relative, local: relative || origins.has(url.origin) }
}

function linkAttributes(target: Destination, title: string | undefined): string {
  return ` href="${escapeHtml(target.href)}"${titleAttribute(title)}${target.local ? '' : ` rel="${REL_EXTERNAL}"`}`
}

function titleAttribute(title: string | undefined): string {
  return title ? ` title="${escapeHtml(title)}"` : ''
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities(html: string): string {
  return html.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-z]+));/g, (entity, decimal?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? entity
    const codePoint = decimal !== undefined ? Number(decimal) : Number.parseInt(hex ?? '', 16)
    return codePoint > 0 && codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff) ? String.fromCodePoint(codePoint) : '\uFFFD'
  })
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? '')
}
