import { expect, test, type Page } from '@playwright/test'
import { expectAccessible, newSignedInPage, portalConsoleErrors } from './support'

// The trainers' studio: a trainer writes a course in Dutch and English with
// a chapter, a lesson with Markdown and an image, and a quiz; publishing is
// refused while the English text is missing, then it is submitted and
// published. Bad input changes nothing; forged ids are 404; members get 403.

const unique = Date.now().toString(36)
// Requests made outside the page carry no Accept-Language of their own; the messages checked are English.
const english = { 'accept-language': 'en' }
// The smallest PNG there is: one transparent pixel.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')

test.afterEach(() => {
  expect(portalConsoleErrors.splice(0), 'console errors on portal pages').toEqual([])
})

/** The revision the page's forms were made on, as the hidden field carries it. */
const revisionOn = (page: Page) => page.locator('input[name="revision"]').first().inputValue()

test('a trainer writes, submits and publishes a course; publishing waits for the English text', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, 'trainer@demo.commons.local')
  const slug = `e2e-studio-${unique}`

  await page.goto('/academy/manage')
  await expect(page.getByRole('heading', { name: 'Academy studio', level: 1 })).toBeVisible()
  await expectAccessible(page, page.url())

  // A new course in Dutch and English.
  const newCourse = page.getByRole('region', { name: 'New course' })
  await newCourse.getByLabel('Short name for the web address').fill(slug)
  await expect(newCourse.getByLabel('Dutch', { exact: true })).toBeChecked()
  await expect(newCourse.getByLabel('English', { exact: true })).toBeChecked()
  await newCourse.getByLabel('Course title (Dutch)').fill('Bestanden delen')
  await newCourse.getByRole('button', { name: 'Create course' }).click()
  await expect(page.getByRole('status')).toContainText('The course is created as a draft.')
  await expect(page.getByRole('heading', { name: 'Bestanden delen', level: 1 })).toBeVisible()
  const courseUrl = new URL(page.url()).pathname
  await expectAccessible(page, page.url())

  // The same short name again is refused.
  await page.goto('/academy/manage')
  await newCourse.getByLabel('Short name for the web address').fill(slug)
  await newCourse.getByLabel('Course title (Dutch)').fill('Nog een keer')
  await newCourse.getByRole('button', { name: 'Create course' }).click()
  await expect(page.getByText(`There is a course called “${slug}” already.`)).toBeVisible()
  await page.goto(courseUrl)

  // Details, in Dutch only for now.
  const details = page.getByRole('region', { name: 'About the course' })
  await details.getByLabel('Summary (Dutch)').fill('Hoe je bestanden deelt met je coöperatie.')
  await details.getByLabel('Who it is for (Dutch)').fill('Alle leden')
  await details.getByLabel('Tool this course teaches').selectOption({ label: 'Nextcloud' })
  await details.getByRole('button', { name: 'Save details' }).click()
  await expect(page.getByRole('status')).toContainText('The details are saved.')

  // A chapter, then a lesson in it: a lesson without a title is refused first.
  const newChapter = page.getByRole('region', { name: 'New chapter' })
  await newChapter.getByLabel('Chapter title (Dutch)').fill('Beginnen')
  await newChapter.getByLabel('Chapter title (English)').fill('Getting started')
  await newChapter.getByRole('button', { name: 'Add chapter' }).click()
  await expect(page.getByRole('status')).toContainText('The chapter is added.')
  const chapter = page.getByRole('region', { name: 'Chapter 1: Getting started' })
  await chapter.getByRole('button', { name: 'Add lesson' }).click()
  await expect(chapter.getByText('A lesson needs a title.')).toBeVisible()
  await chapter.getByLabel('Title of the new lesson (Dutch)').fill('Een bestand delen')
  await chapter.getByRole('button', { name: 'Add lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is added.')
  const lessonUrl = new URL(page.url()).pathname
  expect(lessonUrl).toBe(`${courseUrl}/lessons/een-bestand-delen`)

  // The lesson's Dutch text with a preview, then an image to paste into it.
  await page.getByLabel('Text (Dutch)').fill('# Delen\n\nKlik op **Delen**.')
  await page.getByRole('button', { name: 'Preview the Dutch text' }).click()
  await expect(page.getByRole('region', { name: 'Preview (Dutch)' }).getByRole('heading', { name: 'Delen' })).toBeVisible()
  await page.getByLabel('Minutes it takes').fill('8')
  await page.getByRole('button', { name: 'Save lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is saved.')

  const images = page.getByRole('region', { name: 'Images of this course' })
  await images.getByLabel('Image file').setInputFiles({ name: 'delen.png', mimeType: 'image/png', buffer: PNG })
  await images.getByRole('button', { name: 'Upload image' }).click()
  await expect(images.getByText('Describe the image: screen readers read the description out.')).toBeVisible()
  await images.getByLabel('Image file').setInputFiles({ name: 'delen.png', mimeType: 'image/png', buffer: PNG })
  await images.getByLabel('Description of the image').fill('De knop Delen')
  await images.getByRole('button', { name: 'Upload image' }).click()
  await expect(page.getByRole('status')).toContainText('The image is uploaded.')
  const snippet = (await page.getByRole('status').locator('code').textContent()) ?? ''
  expect(snippet).toMatch(/^!\[De knop Delen\]\(\/academy\/images\/[a-z0-9]+\)$/)
  await expect(images.getByRole('img', { name: 'De knop Delen' })).toBeVisible()
  const imagePath = /\((.+)\)$/.exec(snippet)![1]!
  const served = await page.request.get(imagePath)
  expect(served.status()).toBe(200)
  expect(served.headers()['content-type']).toBe('image/png')
  expect(served.headers()['x-content-type-options']).toBe('nosniff')
  expect(served.headers()['content-security-policy']).toContain('sandbox')

  await page.getByLabel('Text (Dutch)').fill(`# Delen\n\nKlik op **Delen**.\n\n${snippet}`)
  await page.getByRole('button', { name: 'Save lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is saved.')

  // A quiz with a question of each kind; one without a right answer is refused.
  await page.getByRole('button', { name: 'Add a quiz' }).click()
  await expect(page.getByRole('status')).toContainText('The quiz settings are saved.')
  let question = page.getByRole('form', { name: 'New question' })
  await question.getByLabel('Question (Dutch)').fill('Waar staat de knop Delen?')
  await question.getByLabel('Answer 1 (Dutch)').fill('Rechtsboven')
  await question.getByLabel('Answer 2 (Dutch)').fill('Linksonder')
  await question.getByRole('button', { name: 'Add question' }).click()
  await expect(question.getByText('Tick exactly one answer as right')).toBeVisible()
  await question.getByLabel('Answer 1 is right').check()
  await question.getByLabel('Explanation (Dutch)').fill('Bij elk bestand, rechtsboven.')
  await question.getByRole('button', { name: 'Add question' }).click()
  await expect(page.getByRole('status')).toContainText('The question is saved.')
  await expect(page.getByRole('heading', { name: 'Question 1' })).toBeVisible()

  question = page.getByRole('form', { name: 'New question' })
  await question.getByLabel('Kind of question').selectOption({ label: 'Several answers may be right' })
  await question.getByLabel('Question (Dutch)').fill('Met wie kun je delen?')
  await question.getByLabel('Answer 1 (Dutch)').fill('Leden van je organisatie')
  await question.getByLabel('Answer 2 (Dutch)').fill('Mensen met een link')
  await question.getByLabel('Answer 3 (Dutch)').fill('Niemand')
  await question.getByRole('button', { name: 'Add question' }).click()
  await expect(question.getByText('Tick at least one answer as right.')).toBeVisible()
  await question.getByLabel('Answer 1 is right').check()
  await question.getByLabel('Answer 2 is right').check()
  await question.getByLabel('Explanation (Dutch)').fill('Je kiest het zelf.')
  await question.getByRole('button', { name: 'Add question' }).click()
  await expect(page.getByRole('status')).toContainText('The question is saved.')
  await expect(page.getByRole('heading', { name: 'Question 2' })).toBeVisible()
  await expectAccessible(page, page.url())

  // Submitting is refused while the English text is missing; each problem links to where it is fixed.
  await page.goto(courseUrl)
  await page.getByRole('button', { name: 'Submit for review' }).click()
  await expect(page.getByRole('alert')).toContainText('Not yet:')
  const problems = page.locator('#publish-problems')
  await expect(problems.getByText('Text in English is missing.')).toBeVisible()
  await expect(problems.getByRole('link', { name: 'Course details' }).first()).toBeVisible()
  await expectAccessible(page, page.url())

  // The English text, everywhere.
  await details.getByLabel('Course title (English)').fill('Sharing files')
  await details.getByLabel('Summary (English)').fill('How to share files with your cooperative.')
  await details.getByLabel('Who it is for (English)').fill('All members')
  await details.getByRole('button', { name: 'Save details' }).click()
  await expect(page.getByRole('status')).toContainText('The details are saved.')
  // What is left once the page's data is fresh: the lesson's problems only.
  await expect(problems.getByRole('link', { name: 'Course details' })).toHaveCount(0)
  await problems.getByRole('link', { name: 'Lesson “Een bestand delen”' }).first().click()
  await expect(page).toHaveURL(new RegExp(`${lessonUrl}(#[a-z0-9-]+)?$`))
  await page.getByLabel('Lesson title (English)').fill('Sharing a file')
  await page.getByLabel('Text (English)').fill(`# Sharing\n\nClick **Share**.\n\n${snippet.replace('De knop Delen', 'The Share button')}`)
  await page.getByRole('button', { name: 'Save lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is saved.')
  for (const [number, prompt, answers, explanation] of [
    [1, 'Where is the Share button?', ['Top right', 'Bottom left'], 'With every file, top right.'],
    [2, 'Who can you share with?', ['Members of your organisation', 'People with a link', 'Nobody'], 'You choose.'],
  ] as const) {
    const form = page.getByRole('form', { name: `Question ${number}` })
    await form.getByLabel('Question (English)').fill(prompt)
    for (const [i, answer] of answers.entries()) await form.getByLabel(`Answer ${i + 1} (English)`).fill(answer)
    await form.getByLabel('Explanation (English)').fill(explanation)
    // The notice reads the same for every question: wait for this save's own answer, not for the notice of the one before.
    const saved = page.waitForResponse((r) => r.request().method() === 'POST' && r.status() < 400)
    await form.getByRole('button', { name: `Save question ${number}` }).click()
    await saved
    await expect(page.getByRole('status')).toContainText('The question is saved.')
  }

  // Submit, publish; members can open it now.
  await page.goto(courseUrl)
  await expect(page.getByText('Nothing stands in the way of publishing this version.')).toBeVisible()
  await page.getByRole('button', { name: 'Submit for review' }).click()
  await expect(page.getByRole('status')).toContainText('Submitted for review.')
  await expect(page.getByRole('button', { name: 'Save details' })).toHaveCount(0)
  await expectAccessible(page, page.url())
  await page.getByRole('button', { name: 'Publish' }).click()
  await expect(page.getByRole('status')).toContainText('Published. Members see this version now.')
  await expect(page.getByRole('button', { name: 'Start a new draft' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'See the published course as members do' })).toHaveAttribute('href', `/academy/${slug}`)
  await page.goto(lessonUrl)
  await expect(page.getByText('This is the published version; it cannot be changed.')).toBeVisible()
  await expectAccessible(page, page.url())

  // A member takes the course the trainer just wrote, passes its quiz, and gets a certificate.
  const member = await newSignedInPage(browser, 'member@demo.commons.local')
  expect((await member.page.request.get(imagePath)).status()).toBe(200)
  const m = member.page
  await m.goto(`/academy/${slug}`)
  await expect(m.getByRole('heading', { name: 'Sharing files', level: 1 })).toBeVisible()
  await m.getByRole('button', { name: 'Start course' }).click()
  await expect(m).toHaveURL(new RegExp(`/academy/${slug}/een-bestand-delen(\\?started=1)?$`))
  await expect(m.getByRole('heading', { name: 'Sharing a file', level: 1 })).toBeVisible()
  await expect(m.getByRole('img', { name: 'The Share button' })).toBeVisible()
  await expect(m.getByRole('button', { name: 'Mark as done' })).toHaveCount(0)
  await m.getByRole('group', { name: '1. Where is the Share button?' }).getByLabel('Top right').check()
  const who = m.getByRole('group', { name: '2. Who can you share with?' })
  await who.getByLabel('Members of your organisation').check()
  await who.getByLabel('People with a link').check()
  await m.getByRole('button', { name: 'Check my answers' }).click()
  await expect(m.getByRole('region', { name: 'Your result' }).getByRole('status')).toContainText('You scored 100% (2 of 2 right).')
  await expect(m.getByText('Congratulations, you completed the course!')).toBeVisible()
  await m.getByRole('link', { name: 'View your certificate' }).click()
  await expect(m).toHaveURL(/\/certificates\/[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/)
  const code = m.url().split('/').pop()!
  await expect(m.getByText('Mo Member completed the course “Sharing files”.')).toBeVisible()

  // Anyone can check the code, signed out, typed in lower case without dashes.
  const anyone = await browser.newContext()
  const check = await anyone.newPage()
  await check.goto('/certificates')
  await check.getByLabel('Certificate code').fill(code.replaceAll('-', '').toLowerCase())
  await check.getByRole('button', { name: 'Check certificate' }).click()
  await expect(check).toHaveURL(new RegExp(`/certificates/${code}$`))
  await expect(check.getByText('This certificate is valid.')).toBeVisible()
  await anyone.close()

  // The trainer sees the completion counted, without names.
  await page.goto(`${courseUrl}/stats`)
  await expect(page.getByText('1 started and 1 completed the course')).toBeVisible()
  await expect(page.getByText('Mo Member')).toHaveCount(0)
  await expectAccessible(page, page.url())

  // A new version with a second lesson: the member keeps the first lesson done and the certificate.
  await page.goto(courseUrl)
  await page.getByRole('button', { name: 'Start a new draft' }).click()
  await expect(page.getByRole('button', { name: 'Save details' })).toBeVisible()
  const sameChapter = page.getByRole('region', { name: 'Chapter 1: Getting started' })
  await sameChapter.getByLabel('Title of the new lesson (Dutch)').fill('Een map delen')
  await sameChapter.getByLabel('Title of the new lesson (English)').fill('Sharing a folder')
  await sameChapter.getByRole('button', { name: 'Add lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is added.')
  await page.getByLabel('Text (Dutch)').fill('Een map deel je net als een bestand.')
  await page.getByLabel('Text (English)').fill('You share a folder just like a file.')
  await page.getByRole('button', { name: 'Save lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is saved.')
  await page.goto(courseUrl)
  await page.getByRole('button', { name: 'Submit for review' }).click()
  await expect(page.getByRole('status')).toContainText('Submitted for review.')
  await page.getByRole('button', { name: 'Publish' }).click()
  await expect(page.getByRole('status')).toContainText('Published. Members see this version now.')

  await m.goto(`/academy/${slug}`)
  const lessons = m.getByRole('region', { name: 'Chapters and lessons' }).getByRole('list', { name: 'Chapter 1: Getting started' })
  await expect(lessons.getByRole('listitem').filter({ hasText: 'Sharing a file' })).toContainText('Done')
  await expect(lessons.getByRole('listitem').filter({ hasText: 'Sharing a folder' })).toContainText('Open')
  await expect(m.getByRole('link', { name: 'View your certificate' })).toBeVisible()
  await m.getByRole('link', { name: /Go on/ }).first().click()
  await expect(m.getByRole('heading', { name: 'Sharing a folder', level: 1 })).toBeVisible()
  await m.goto(`/certificates/${code}`)
  await expect(m.getByText('This certificate is valid.')).toBeVisible()

  // The trainer revokes it (a code of another course, or a typo, changes nothing); its page says so from then on.
  await page.goto(courseUrl)
  const revoke = page.getByRole('region', { name: 'Revoke a certificate' })
  await revoke.getByLabel('Certificate code').fill('AAAA-BBBB-CCCC')
  await revoke.getByRole('button', { name: 'Revoke certificate' }).click()
  await expect(page.getByRole('alert')).toContainText('No certificate of this course has the code AAAA-BBBB-CCCC.')
  await revoke.getByLabel('Certificate code').fill(code.toLowerCase())
  await revoke.getByRole('button', { name: 'Revoke certificate' }).click()
  await expect(page.getByRole('status')).toContainText(`Certificate ${code} is revoked.`)
  await m.reload()
  await expect(m.getByText(/This certificate was revoked on .+\. It is no longer valid\./)).toBeVisible()
  await expect(m.getByText('This certificate is valid.')).toHaveCount(0)
  await expectAccessible(page, 'the course editor with the revoke form')
  await member.context.close()
  await context.close()
})

test('bad input changes nothing; forged ids are 404; members may not open the studio', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, 'trainer@demo.commons.local')
  await page.goto('/academy/manage')
  const newCourse = page.getByRole('region', { name: 'New course' })
  await newCourse.getByLabel('Short name for the web address').fill(`e2e-bad-${unique}`)
  await newCourse.getByLabel('English', { exact: true }).uncheck()
  await newCourse.getByLabel('Course title (Dutch)').fill('Foute invoer')
  await newCourse.getByRole('button', { name: 'Create course' }).click()
  await expect(page.getByRole('status')).toContainText('The course is created as a draft.')
  const courseUrl = new URL(page.url()).pathname
  const newChapter = page.getByRole('region', { name: 'New chapter' })
  await newChapter.getByLabel('Chapter title (Dutch)').fill('Hoofdstuk')
  await newChapter.getByRole('button', { name: 'Add chapter' }).click()
  await expect(page.getByRole('status')).toContainText('The chapter is added.')
  // The notice comes with the action's answer, the new revision with the page's data a moment later.
  await expect(page.getByRole('region', { name: 'Chapter 1: Hoofdstuk' })).toBeVisible()

  // A lesson without a title, sent past the browser's check: 400, and no lesson.
  const revision = await revisionOn(page)
  const noTitle = await page.request.post(courseUrl, { headers: english, form: { intent: 'add-lesson', revision, chapterId: 'hoofdstuk', 'title.nl': '  ' } })
  expect(noTitle.status()).toBe(400)
  expect(await noTitle.text()).toContain('A lesson needs a title.')
  await page.reload()
  await expect(page.getByText('No lessons in this chapter yet.')).toBeVisible()
  expect(await revisionOn(page)).toBe(revision)

  // A stale form: someone else saved since.
  const stale = await page.request.post(courseUrl, { headers: english, form: { intent: 'add-chapter', revision: String(Number(revision) - 1), 'title.nl': 'Te laat' } })
  expect(stale.status()).toBe(409)
  expect(await stale.text()).toContain('Someone else saved this course meanwhile; reload to see their changes.')

  // A question without a right answer, sent past the browser's check: 400, and no question.
  await page.getByRole('region', { name: 'Chapter 1: Hoofdstuk' }).getByLabel('Title of the new lesson (Dutch)').fill('Les')
  await page.getByRole('button', { name: 'Add lesson' }).click()
  await expect(page.getByRole('status')).toContainText('The lesson is added.')
  const lessonUrl = new URL(page.url()).pathname
  await page.getByRole('button', { name: 'Add a quiz' }).click()
  await expect(page.getByRole('status')).toContainText('The quiz settings are saved.')
  await expect(page.getByRole('form', { name: 'New question' })).toBeVisible()
  const noRightAnswer = await page.request.post(lessonUrl, {
    headers: english,
    form: { intent: 'save-question', revision: await revisionOn(page), kind: 'multiple', 'prompt.nl': 'Vraag?', 'options[0].text.nl': 'a', 'options[1].text.nl': 'b' },
  })
  expect(noRightAnswer.status()).toBe(400)
  expect(await noRightAnswer.text()).toContain('Tick at least one answer as right.')
  await page.reload()
  await expect(page.getByRole('heading', { name: 'Question 1' })).toHaveCount(0)

  // Forged ids.
  expect((await page.goto('/academy/manage/not-a-course'))?.status()).toBe(404)
  expect((await page.goto(`${courseUrl}/lessons/not-a-lesson`))?.status()).toBe(404)
  expect((await page.request.post('/academy/manage/not-a-course', { form: { intent: 'submit', revision: '1' } })).status()).toBe(404)
  expect((await page.request.get('/academy/images/not-an-image')).status()).toBe(404)
  // Too much Markdown to preview.
  const tooLong = await page.request.post(lessonUrl, { headers: english, form: { intent: 'save-lesson', preview: 'nl', 'body.nl': 'x'.repeat(100_001) } })
  expect(tooLong.status()).toBe(400)
  expect(await tooLong.text()).toContain('at most 100000 characters')

  // A course never published can be deleted; afterwards its address is a 404.
  await page.goto(courseUrl)
  await page.getByRole('button', { name: 'Delete this course' }).click()
  await expect(page).toHaveURL(/\/academy\/manage\?deleted=1$/)
  await expect(page.getByRole('status')).toContainText('The course is deleted.')
  expect((await page.goto(courseUrl))?.status()).toBe(404)
  await context.close()

  const member = await newSignedInPage(browser, 'member@demo.commons.local')
  expect((await member.page.goto('/academy/manage'))?.status()).toBe(403)
  expect((await member.page.goto(courseUrl))?.status()).toBe(403)
  expect((await member.page.request.post(lessonUrl, { form: { intent: 'save-lesson', preview: 'nl', 'body.nl': '# Hi' } })).status()).toBe(403)
  await member.context.close()
})
