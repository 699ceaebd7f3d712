import { describe, expect, it } from 'vitest'
import { MARKDOWN_MAX_LENGTH, markdownToText, renderMarkdown } from './markdown.server'

/** Every tag in the output, with its attributes. Escaped text (`&lt;svg`) is not a tag. */
function tags(html: string): string[] {
  return html.match(/<[a-z][^>]*>/gi) ?? []
}

function urls(html: string): string[] {
  return [...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((match) => match[1] ?? '')
}

/** What must hold for any input at all. */
function expectInert(html: string) {
  expect(html).not.toMatch(/<script/i)
  expect(html).not.toMatch(/<iframe/i)
  expect(html).not.toMatch(/<svg/i)
  expect(html).not.toMatch(/<(object|embed|style|form|meta|link|base)\b/i)
  for (const tag of tags(html)) {
    // Attribute names only: an escaped quote keeps " onclick=" inside a value.
    const names = tag.replace(/="[^"]*"/g, '=""')
    expect(names).not.toMatch(/\son\w+=/i)
    expect(names).not.toMatch(/\sstyle=/i)
  }
  for (const url of urls(html)) {
    expect(url).not.toMatch(/^\s*(javascript|vbscript|data|file):/i)
    // An entity would be decoded by the browser, so none may hide a protocol.
    expect(url).not.toMatch(/&#/)
  }
}

describe('renderMarkdown with hostile input', () => {
  it('shows a script tag as text instead of running it', () => {
    const html = renderMarkdown('<script>alert(1)</script>')
    expectInert(html)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('shows an img with an event handler as text', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)>')
    expectInert(html)
    expect(html).not.toContain('<img')
    expect(html).toBe('&lt;img src=x onerror=alert(1)&gt;')
  })

  it.each([
    ['lower case', '[x](javascript:alert(1))'],
    ['upper case', '[x](JAVASCRIPT:alert(1))'],
    ['leading spaces', '[x](  javascript:alert(1))'],
    ['a decimal entity', '[x](&#106;avascript:alert(1))'],
    ['a hex entity', '[x](&#x6A;avascript:alert(1))'],
    ['a named entity for the colon', '[x](javascript&colon;alert(1))'],
    ['a tab inside the scheme', '[x](<java\tscript:alert(1)>)'],
    ['an escaped newline inside the scheme', '[x](java%0ascript:alert(1))'],
    ['a data URL', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
    ['vbscript', '[x](vbscript:msgbox(1))'],
    ['irc, which micromark itself would allow', '[x](irc://irc.example/room)'],
    ['a reference definition', '[x][evil]\n\n[evil]: javascript:alert(1)'],
  ])('drops a link with %s and keeps its text', (_name, source) => {
    const html = renderMarkdown(source)
    expectInert(html)
    expect(html).not.toContain('<a')
    expect(html).toContain('x')
  })

  it('renders a javascript autolink as text', () => {
    const html = renderMarkdown('<javascript:alert(1)>')
    expectInert(html)
    expect(html).toBe('<p>javascript:alert(1)</p>')
  })

  it('drops an image with a javascript URL, keeping its description', () => {
    const html = renderMarkdown('![a cat](javascript:alert(1))')
    expectInert(html)
    expect(html).not.toMatch(/<img|<a/)
    expect(html).toBe('<p>a cat</p>')
  })

  it('shows raw anchors, svg, iframes and style attributes as text', () => {
    const html = renderMarkdown(
      [
        '<a href="javascript:alert(1)">click</a>',
        '<svg onload=alert(1)>',
        '<iframe src="https://evil.example"></iframe>',
        '<p style="background:url(https://tracker.example/p.png)">styled</p>',
        '<div onclick="alert(1)">div</div>',
      ].join('\n\n'),
    )
    expectInert(html)
    expect(tags(html).every((tag) => tag === '<p>')).toBe(true)
    expect(html).toContain('&lt;iframe src=&quot;https://evil.example&quot;&gt;')
  })

  it('keeps a title with quotes inside its attribute', () => {
    const html = renderMarkdown('[x](/a "a\\" onmouseover=\\"alert(1)")')
    expectInert(html)
    expect(html).toBe('<p><a href="/a" title="a&quot; onmouseover=&quot;alert(1)">x</a></p>')
  })

  it('survives a list of known XSS payloads', () => {
    const payloads = [
      '<IMG SRC="jav&#x09;ascript:alert(1);">',
      '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
      '[a](javascript://%0Aalert(1))',
      '[a](javascript:window.onerror=alert;throw%201)',
      '[a](//evil.example)',
      '![a](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)',
      '![a"onerror="alert(1)](x.png)',
      '[a](x.png"onclick="alert(1))',
      '<details open ontoggle=alert(1)>',
      '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
      '<<script>script>alert(1)<</script>/script>',
      '`<script>` and ```\n<script>\n```',
      '| a |\n|---|\n| <script>alert(1)</script> |',
      '- [ ] <img src=x onerror=alert(1)>',
      '<https://example.org/"onmouseover="alert(1)>',
      'www.example.org/"onmouseover="alert(1)',
    ]
    for (const payload of payloads) expectInert(renderMarkdown(payload))
  })
})

describe('renderMarkdown with images', () => {
  it('does not load a third-party image, but links to it', () => {
    const html = renderMarkdown('![t](https://tracker.example/p.png)')
    expect(html).not.toContain('<img')
    expect(html).toBe('<p><a href="https://tracker.example/p.png" rel="nofollow noopener noreferrer">t</a></p>')
  })

  it('does not load a protocol-relative image on another host', () => {
    const html = renderMarkdown('![t](//tracker.example/p.png)')
    expect(html).not.toContain('<img')
  })

  it('shows relative images', () => {
    expect(renderMarkdown('![A chart](/attachments/abc.png "Chart")')).toBe('<p><img src="/attachments/abc.png" alt="A chart" title="Chart" /></p>')
    expect(renderMarkdown('![](images/x.png)')).toBe('<p><img src="images/x.png" alt="" /></p>')
  })

  it('shows images on an allowed origin, and others only when allowImage says so', () => {
    const options = {
      allowedOrigins: ['https://portal.example.coop'],
      allowImage: (url: URL) => url.hostname === 'cdn.example.coop',
    }
    expect(renderMarkdown('![a](https://portal.example.coop/a.png)', options)).toContain('<img src="https://portal.example.coop/a.png"')
    expect(renderMarkdown('![b](https://cdn.example.coop/b.png)', options)).toContain('<img src="https://cdn.example.coop/b.png"')
    expect(renderMarkdown('![c](https://tracker.example/c.png)', options)).not.toContain('<img')
  })

  it('never asks allowImage about a URL it may not load anyway', () => {
    const asked: string[] = []
    renderMarkdown('![a](javascript:alert(1)) ![b](data:image/png;base64,AAAA) ![c](https://x.example/c.png)', {
      allowImage: (url) => {
        asked.push(url.href)
        return true
      },
    })
    expect(asked).toEqual(['https://x.example/c.png'])
  })

  it('does not nest a link inside a link when an image in a link is refused', () => {
    const html = renderMarkdown('[![logo](https://tracker.example/l.png)](https://example.org)')
    expect(html).toBe('<p><a href="https://example.org" rel="nofollow noopener noreferrer">logo</a></p>')
  })
})

describe('renderMarkdown links', () => {
  it('marks external links and leaves internal ones alone, opening both in the same tab', () => {
    const html = renderMarkdown('[ext](https://example.org/a) [rel](/tickets/1) [frag](#top) [ours](https://portal.example.coop/x) [mail](mailto:help@example.coop)', {
      allowedOrigins: ['https://portal.example.coop/'],
    })
    expect(html).toBe(
      '<p><a href="https://example.org/a" rel="nofollow noopener noreferrer">ext</a> <a href="/tickets/1">rel</a> <a href="#top">frag</a> ' +
        '<a href="https://portal.example.coop/x">ours</a> <a href="mailto:help@example.coop" rel="nofollow noopener noreferrer">mail</a></p>',
    )
    expect(html).not.toContain('target=')
  })

  it('links bare URLs and addresses (GFM autolinks)', () => {
    const html = renderMarkdown('See www.example.org, https://example.org/a?b=1&c=2 and help@example.coop')
    expect(html).toBe(
      '<p>See <a href="http://www.example.org" rel="nofollow noopener noreferrer">www.example.org</a>, ' +
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">https://example.org/a?b=1&amp;c=2</a> and ' +
        '<a href="mailto:help@example.coop" rel="nofollow noopener noreferrer">help@example.coop</a></p>',
    )
  })
})

describe('renderMarkdown with ordinary Markdown', () => {
  it('renders headings, emphasis and strikethrough', () => {
    expect(renderMarkdown('# Title\n\n## Sub & more\n\n*em* **strong** ~~gone~~')).toBe(
      '<h1>Title</h1>\n<h2>Sub &amp; more</h2>\n<p><em>em</em> <strong>strong</strong> <del>gone</del></p>',
    )
  })

  it('renders lists, ordered lists with a start and task lists', () => {
    expect(renderMarkdown('- one\n- two\n  - nested\n\n3. three\n4. four')).toBe(
      '<ul>\n<li>one</li>\n<li>two\n<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>\n<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>',
    )
    expect(renderMarkdown('- [x] done\n- [ ] to do')).toBe(
      '<ul>\n<li><input type="checkbox" disabled="" checked="" /> done</li>\n<li><input type="checkbox" disabled="" /> to do</li>\n</ul>',
    )
  })

  it('renders code with its content escaped', () => {
    expect(renderMarkdown('Run `npm <x>`:\n\n```sh\necho "<b>" && exit\n```')).toBe(
      '<p>Run <code>npm &lt;x&gt;</code>:</p>\n<pre><code class="language-sh">echo &quot;&lt;b&gt;&quot; &amp;&amp; exit\n</code></pre>',
    )
  })

  it('renders tables with their alignment', () => {
    expect(renderMarkdown('| Tool | Seats |\n|:--|--:|\n| Chat | 12 |')).toBe(
      '<table>\n<thead>\n<tr>\n<th align="left">Tool</th>\n<th align="right">Seats</th>\n</tr>\n</thead>\n' +
        '<tbody>\n<tr>\n<td align="left">Chat</td>\n<td align="right">12</td>\n</tr>\n</tbody>\n</table>',
    )
  })

  it('renders quotes, rules and hard line breaks', () => {
    expect(renderMarkdown('> quoted\n\n---\n\nline  \nbreak')).toBe('<blockquote>\n<p>quoted</p>\n</blockquote>\n<hr />\n<p>line<br />\nbreak</p>')
  })

  it('treats footnote syntax as plain Markdown, so replies on one page cannot clash', () => {
    const html = renderMarkdown('Note[^1]\n\n[^1]: text')
    expect(html).not.toContain('footnote')
    expect(html).not.toContain('id=')
  })

  it(`cuts the source at ${MARKDOWN_MAX_LENGTH} characters`, () => {
    const html = renderMarkdown(`${'a'.repeat(MARKDOWN_MAX_LENGTH)}TAIL`)
    expect(html).not.toContain('TAIL')
    expect(html).toContain('a'.repeat(1000))
    expect(html).toContain('…')
  })

  it('does not split a character outside the BMP when cutting', () => {
    const html = renderMarkdown(`${'a'.repeat(MARKDOWN_MAX_LENGTH - 1)}😀`)
    expect(html).not.toContain('\uFFFD')
    expect(html).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/)
  })
})

describe('markdownToText', () => {
  it('drops the markup and writes links as "text (url)"', () => {
    expect(markdownToText('# Hello\n\nSee **the [docs](https://example.org/docs)** and `code`.')).toBe(
      'Hello\n\nSee the docs (https://example.org/docs) and code.',
    )
  })

  it('does not repeat the URL of an autolink', () => {
    expect(markdownToText('<https://example.org> www.example.org help@example.coop')).toBe('https://example.org www.example.org help@example.coop')
  })

  it('keeps only the text of a link it would not follow', () => {
    expect(markdownToText('[click](javascript:alert(1))')).toBe('click')
  })

  it('writes relative links out against baseUrl', () => {
    expect(markdownToText('[ticket](/tickets/1) ![chart](/a/c.png)', { baseUrl: 'https://portal.example.coop/x' })).toBe(
      'ticket (https://portal.example.coop/tickets/1) chart (https://portal.example.coop/a/c.png)',
    )
  })

  it('keeps raw HTML as the text the person wrote', () => {
    expect(markdownToText('Is <b>this</b> & that broken?')).toBe('Is <b>this</b> & that broken?')
  })

  it('keeps list bullets, task marks, quotes, table rows and code blocks readable', () => {
    const source = '- one\n- two\n  - nested\n\n1. first\n2. second\n\n- [x] done\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\n  indented\n```'
    expect(markdownToText(source)).toBe('- one\n- two\n  - nested\n\n1. first\n2. second\n\n- [x] done\n\n> quoted\n\na | b\n1 | 2\n\n  indented')
  })

  it('keeps line breaks inside a paragraph', () => {
    expect(markdownToText('line one\nline two  \nline three')).toBe('line one\nline two\nline three')
  })
})
