// Checks on lesson Markdown. Lessons are rendered in the portal, so they may
// not carry raw HTML (script, iframes, tracking pixels) nor load images from
// elsewhere (that would tell a third party who reads which lesson).

/** Blanks out fenced code blocks and inline code spans, keeping line numbers. */
export function stripCode(markdown: string): string {
  const lines = markdown.split('\n')
  let fence: string | undefined
  const out = lines.map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined
      return ''
    }
    if (marker) {
      fence = marker
      return ''
    }
    if (/^( {4}|\t)/.test(line)) return '' // indented code block
    return line
  })
  // Inline code: a run of n backticks up to the next run of exactly n.
  return out.join('\n').replace(/(`+)[\s\S]*?(?<!`)\1(?!`)/g, (m) => m.replace(/[^\n]/g, ' '))
}

export type MarkdownProblem = { line: number; message: string }

export type ImageRef = { line: number; target: string }

/** Raw HTML outside code: `<` followed by a letter, `/` or `!` (tags, closing tags, comments). */
export function findRawHtml(markdown: string): MarkdownProblem[] {
  const problems: MarkdownProblem[] = []
  stripCode(markdown)
    .split('\n')
    .forEach((line, i) => {
      for (const m of line.matchAll(/<[A-Za-z/!][^\s>]*/g)) {
        problems.push({ line: i + 1, message: `raw HTML "${m[0]}" is not allowed; write Markdown instead` })
      }
    })
  return problems
}

/** Every `![alt](target)` and `![alt][ref]` outside code. */
export function findImages(markdown: string): ImageRef[] {
  const images: ImageRef[] = []
  const lines = stripCode(markdown).split('\n')
  const refs = new Map<string, string>()
  for (const line of lines) {
    const def = /^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s.*)?$/.exec(line)
    if (def?.[1] && def[2]) refs.set(def[1].toLowerCase(), def[2])
  }
  lines.forEach((line, i) => {
    for (const m of line.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+["'(][^)]*)?\)/g)) images.push({ line: i + 1, target: m[1] ?? '' })
    for (const m of line.matchAll(/!\[([^\]]*)\]\[([^\]]*)\]/g)) {
      const label = (m[2] || m[1] || '').toLowerCase()
      images.push({ line: i + 1, target: refs.get(label) ?? `[${label}]` })
    }
  })
  return images
}

/** Only `images/…` inside the course folder: no scheme, no absolute path, no `..`. */
export function imageTargetProblem(target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return `external image "${target}" is not allowed; put it in images/`
  if (!/^images\/[^?#]+$/.test(target) || target.split('/').includes('..')) {
    return `image "${target}" must be a relative path under images/`
  }
  return undefined
}

/** Words a reader reads: Markdown syntax, URLs and code do not count. */
export function countWords(markdown: string): number {
  const text = stripCode(markdown)
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/https?:\/\/\S+/g, ' ')
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0
}
