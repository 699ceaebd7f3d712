import { expect, test, type Page } from '@playwright/test'
import {
  createOrganisation,
  expectAccessible,
  fillKeycloakLogin,
  forbidThirdPartyRequests,
  keycloakOrigin,
  nextMail,
  newSignedInPage,
  portalConsoleErrors,
  portalOrigin,
  trackConsoleErrors,
} from './support'

// The members' academy end to end, on the starter course "digital-safety"
// seeded at start-up (published): a member starts it, finds lesson 2 locked
// until lesson 1 is done, fails the quiz (and reads why), passes it, completes
// the course and checks the certificate's code signed out. Then bad input
// (an answer to a locked lesson, forged slugs and lesson ids), an organisation
// admin assigning a course, and axe on every academy page.
//
// The markdown of a lesson cannot be planted by a member (only trainers write
// it); that lesson bodies render inert is tested in learning.server.test.ts.

const unique = Date.now().toString(36)
const MEMBER = 'member@demo.commons.local' // Mo Member
const ADMIN = 'admin@demo.commons.local' // Anouk Admin
const COURSE = 'digital-safety'
const COURSE_TITLE = 'Digital safety for small organisations'
const LESSONS = ['passwords', 'two-factor', 'phishing', 'sharing-safely', 'gdpr-basics', 'backups']
const QUIZ_LESSON = 'backups'
const origin = portalOrigin

// The quiz of the last lesson, by the English texts of its options.
const WRONG: Record<string, string[]> = {
  'What is the best approach to passwords?': ['One strong password for everything'],
  'Which signs point to phishing?': ['An invitation to the meeting you planned yourself'],
  'A laptop with the member list was stolen. How soon must a data breach be reported to the Dutch Data Protection Authority?': ['Within a month'],
  'Which details do you ask of a new member?': ['As much as possible, it might come in handy'],
  'What makes a backup reliable?': ['A copy on the same disk'],
}
const RIGHT: Record<string, string[]> = {
  'What is the best approach to passwords?': ['A password manager with a unique password for every service'],
  'Which signs point to phishing?': ["Urgency: 'your account will be blocked today'", 'A link to a strange web address'],
  'A laptop with the member list was stolen. How soon must a data breach be reported to the Dutch Data Protection Authority?': ['Within 72 hours of finding out'],
  'Which details do you ask of a new member?': ['Only what you need for the membership'],
  'What makes a backup reliable?': ['A copy in another place, and testing now and then that restoring works'],
}

const shared = { certificateCode: '', certificateUrl: '' }

test.describe.configure({ mode: 'serial' })
test.use({ actionTimeout: 15_000 })

test.beforeEach(({ context }) => trackConsoleErrors(context))
test.afterEach(() => {
  const errors = portalConsoleErrors.splice(0)
  expect(errors, 'console errors on portal pages').toEqual([])
})

/** Ticks the answers, question by question, each question a group named by its prompt. */
async function answerQuiz(page: Page, answers: Record<string, string[]>) {
  for (const [prompt, options] of Object.entries(answers)) {
    const question = page.getByRole('group', { name: prompt })
    for (const option of options) await question.getByLabel(option, { exact: true }).check()
  }
  await page.getByRole('button', { name: 'Check my answers' }).click()
}

test('a member starts a course, finds the next lesson locked, fails and passes the quiz, and gets a certificate anyone can check', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, MEMBER)
  const checkNoThirdParty = forbidThirdPartyRequests(context)

  await page.goto('/academy')
  await expect(page.getByRole('heading', { level: 1, name: 'Academy' })).toBeVisible()
  await expectAccessible(page, '/academy')
  // Filters by tool and language, without JavaScript needed (a GET form).
  await page.getByLabel('Course language').selectOption('nl')
  await page.getByRole('button', { name: 'Show courses' }).click()
  await expect(page).toHaveURL(/language=nl/)
  await expect(page.getByRole('link', { name: COURSE_TITLE })).toBeVisible()
  await page.getByRole('link', { name: 'Show all courses' }).click()

  await page.getByRole('link', { name: COURSE_TITLE }).click()
  await expect(page).toHaveURL(`/academy/${COURSE}`)
  await expect(page.getByRole('heading', { level: 1, name: COURSE_TITLE })).toBeVisible()
  await expectAccessible(page, 'the course page before starting')

  // Not enrolled yet: a lesson address leads to the course page.
  await page.goto(`/academy/${COURSE}/${LESSONS[0]}`)
  await expect(page).toHaveURL(`/academy/${COURSE}`)

  await page.getByRole('button', { name: 'Start course' }).click()
  await expect(page).toHaveURL(new RegExp(`/academy/${COURSE}/${LESSONS[0]}`))
  await expect(page.getByRole('heading', { level: 1, name: 'Passwords and a password manager' })).toBeVisible()
  await expect(page.getByRole('status').filter({ hasText: 'You started the course' })).toBeVisible()
  await expectAccessible(page, 'a lesson')

  // Lesson 2 is locked until lesson 1 is done: its page says which lesson to finish first.
  const locked = await page.goto(`/academy/${COURSE}/${LESSONS[1]}`)
  expect(locked?.status()).toBe(409)
  await expect(page.getByRole('heading', { level: 1, name: 'This lesson is not open yet' })).toBeVisible()
  await expect(page.getByText('Finish “Passwords and a password manager” first')).toBeVisible()
  await expectAccessible(page, 'a locked lesson')

  // An answer posted to the locked quiz lesson is refused and stores nothing.
  const forgedAnswer = await page.request.post(`/academy/${COURSE}/${QUIZ_LESSON}`, {
    form: { intent: 'submit-quiz', 'answer.password-reuse': 'manager' },
    headers: { Origin: origin },
  })
  expect(forgedAnswer.status()).toBe(409)

  await page.getByRole('link', { name: 'Go to “Passwords and a password manager”' }).click()
  await page.getByRole('button', { name: 'Mark as done' }).click()
  await expect(page).toHaveURL(new RegExp(`/academy/${COURSE}/${LESSONS[1]}`))
  await expect(page.getByRole('status').filter({ hasText: 'Lesson done' })).toBeVisible()

  // The course page shows the states in words.
  await page.goto(`/academy/${COURSE}`)
  // Each chapter's lessons are a list named by the chapter heading.
  const chapter = page.getByRole('region', { name: 'Chapters and lessons' }).getByRole('list', { name: 'Chapter 1: Protecting your accounts' })
  await expect(chapter.getByRole('listitem').filter({ hasText: 'Passwords and a password manager' })).toContainText('Done')
  await expect(chapter.getByRole('listitem').filter({ hasText: 'Two-step sign-in' })).toContainText('Open')
  await expect(chapter.getByRole('listitem').filter({ hasText: 'Spotting phishing' })).toContainText('Locked')
  await expect(page.getByRole('progressbar', { name: `Progress in ${COURSE_TITLE}` })).toBeVisible()
  await expectAccessible(page, 'the course page while learning')
  // The dashboard leads back to where the member stopped, too.
  await page.goto('/')
  await page.getByRole('link', { name: /^Go on with “Digital safety for small organisations” \(\d+% done\)\.$/ }).click()
  await expect(page).toHaveURL(`/academy/${COURSE}/${LESSONS[1]}`)
  await page.goto(`/academy/${COURSE}`)
  await page.getByRole('link', { name: 'Go on', exact: true }).click()
  await expect(page).toHaveURL(`/academy/${COURSE}/${LESSONS[1]}`)

  // "Mark as done" leads on to the next lesson; wait for it, or the next step would cut the answer short.
  for (const next of LESSONS.slice(2)) {
    await page.getByRole('button', { name: 'Mark as done' }).click()
    await expect(page).toHaveURL(new RegExp(`/academy/${COURSE}/${next}\\?done=1$`))
  }
  await expect(page).toHaveURL(new RegExp(`/academy/${COURSE}/${QUIZ_LESSON}`))
  // Nothing was stored by the forged answer: no score yet.
  await expect(page.getByText('Your best score so far')).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Mark as done' })).toHaveCount(0)
  await expect(page.getByText('You can try as often as you need.')).toBeVisible()
  await expectAccessible(page, 'a quiz')

  // Unanswered: the form says so per question and sends nothing.
  await page.getByRole('button', { name: 'Check my answers' }).click()
  await expect(page.getByRole('alert').filter({ hasText: 'Not every question has a valid answer yet' })).toBeVisible()
  await expect(page.getByText('Choose an answer to this question.').first()).toBeVisible()

  await answerQuiz(page, WRONG)
  const result = page.getByRole('region', { name: 'Your result' })
  await expect(result.getByRole('status')).toContainText('You scored 0% (0 of 5 right).')
  await expect(result.getByRole('status')).toContainText('Not passed yet: you need 80%.')
  await expect(result.getByText('Wrong').first()).toBeVisible()
  await expect(result.getByText('When one password leaks, criminals try it everywhere.')).toBeVisible()
  await expectAccessible(page, 'a failed quiz with explanations')

  await answerQuiz(page, RIGHT)
  await expect(result.getByRole('status')).toContainText('You scored 100% (5 of 5 right).')
  await expect(result.getByRole('status')).toContainText('Passed: this lesson is done.')
  await expect(page.getByText('Congratulations, you completed the course!')).toBeVisible()
  await page.getByRole('link', { name: 'View your certificate' }).click()

  await expect(page).toHaveURL(/\/certificates\/[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/)
  shared.certificateUrl = page.url()
  shared.certificateCode = shared.certificateUrl.split('/').pop()!
  await expect(page.getByRole('heading', { level: 1, name: 'Certificate of completion' })).toBeVisible()
  await expect(page.getByText('Mo Member completed the course “Digital safety for small organisations”.')).toBeVisible()
  await expect(page.getByText('This certificate is valid.')).toBeVisible()
  await expect(page.locator('meta[name="robots"]')).toHaveAttribute('content', 'noindex')
  await expectAccessible(page, 'a certificate')

  // In the member's own language (another test may have set Mo's to Dutch).
  const mail = await nextMail(MEMBER, /(Your certificate for|Je certificaat voor) “(Digital safety for small organisations|Digitale veiligheid voor kleine organisaties)”/)
  expect(mail.text).toContain(`/certificates/${shared.certificateCode}`)

  await page.goto('/academy')
  const mine = page.getByRole('region', { name: 'My courses' })
  await expect(mine.getByRole('link', { name: `View certificate for ${COURSE_TITLE}` })).toBeVisible()
  await expect(mine.getByText('Completed', { exact: true })).toBeVisible()
  checkNoThirdParty()
  await context.close()
})

test('anyone checks a certificate code signed out, typed any way; an unknown code says so with 404', async ({ browser }) => {
  const context = await browser.newContext()
  trackConsoleErrors(context)
  const checkNoThirdParty = forbidThirdPartyRequests(context)
  const page = await context.newPage()

  await page.goto('/certificates')
  await expect(page.getByRole('heading', { level: 1, name: 'Check a certificate' })).toBeVisible()
  await expectAccessible(page, '/certificates')
  await page.getByLabel('Certificate code').fill('not a code')
  await page.getByRole('button', { name: 'Check certificate' }).click()
  await expect(page.getByText('A certificate code has 12 letters and digits')).toBeVisible()
  await expect(page.getByLabel('Certificate code')).toHaveValue('not a code')

  await page.getByLabel('Certificate code').fill(shared.certificateCode.toLowerCase().replaceAll('-', ' '))
  await page.getByRole('button', { name: 'Check certificate' }).click()
  await expect(page).toHaveURL(`/certificates/${shared.certificateCode}`)
  await expect(page.getByText('Mo Member completed the course')).toBeVisible()
  // Nothing about the holder beyond the certificate: no e-mail address, no sign-in.
  await expect(page.getByText(MEMBER)).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0)

  const unknown = await page.goto('/certificates/AAAA-BBBB-CCCC')
  expect(unknown?.status()).toBe(404)
  await expect(page.getByRole('heading', { level: 1, name: 'No certificate with this code' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Check another code' })).toBeVisible()
  await expectAccessible(page, 'an unknown certificate')

  // The print style leaves only the certificate.
  await page.goto(`/certificates/${shared.certificateCode}`)
  await page.emulateMedia({ media: 'print' })
  await expect(page.locator('.site-header')).toBeHidden()
  await expect(page.getByRole('button', { name: 'Print certificate' })).toBeHidden()
  await expect(page.getByRole('heading', { name: 'Certificate of completion' })).toBeVisible()
  checkNoThirdParty()
  await context.close()
})

test('forged slugs and lesson ids answer 404, and the unpublished look the same', async ({ browser }) => {
  const { context, page } = await newSignedInPage(browser, MEMBER)
  for (const path of [`/academy/no-such-course-${unique}`, `/academy/${COURSE}/no-such-lesson`, `/academy/no-such-course-${unique}/${LESSONS[0]}`]) {
    const response = await page.goto(path)
    expect(response?.status(), path).toBe(404)
  }
  const post = await page.request.post(`/academy/${COURSE}/no-such-lesson`, { form: { intent: 'complete' }, headers: { Origin: origin } })
  expect(post.status()).toBe(404)
  await context.close()
})

test('an organisation admin assigns a course to a member, who sees it assigned to them', async ({ browser }) => {
  const org = { name: `Leerkring ${unique}`, slug: `leerkring-${unique}`, description: 'Learning together.', city: 'Arnhem' }
  const admin = await newSignedInPage(browser, ADMIN)
  const checkNoThirdParty = forbidThirdPartyRequests(admin.context)
  await createOrganisation(admin.page, org)
  await admin.page.getByLabel('Email address').fill(MEMBER)
  await admin.page.getByRole('button', { name: 'Send invitation' }).click()
  const invitation = await nextMail(MEMBER, new RegExp(org.name))
  const link = /https?:\/\/\S+\/invitations\/[A-Za-z0-9_-]{43}/.exec(invitation.text ?? '')?.[0]
  expect(link).toBeTruthy()

  const memberContext = await browser.newContext()
  trackConsoleErrors(memberContext)
  const memberPage = await memberContext.newPage()
  await memberPage.goto(link!)
  await expect(memberPage).toHaveURL(new RegExp(`^${keycloakOrigin}/`))
  await fillKeycloakLogin(memberPage, MEMBER)
  await memberPage.getByRole('button', { name: 'Accept and join' }).click()
  await expect(memberPage).toHaveURL(`/organisations/${org.slug}`)

  // Another starter course than the one completed above.
  await admin.page.goto('/academy/nextcloud-basics')
  const form = admin.page.getByRole('region', { name: `Assign this course to members of ${org.name}` })
  await expect(form).toBeVisible()
  await expectAccessible(admin.page, 'the course page of an organisation admin')
  // "Only the members I choose" with nobody chosen: the form says what to do.
  await form.getByLabel('Only the members I choose').check()
  await form.getByRole('button', { name: 'Assign course' }).click()
  await expect(form.getByText('Choose at least one member, or choose all members.')).toBeVisible()
  await form.getByLabel('Mo Member').check()
  await form.getByRole('button', { name: 'Assign course' }).click()
  await expect(form.getByRole('status')).toContainText('Assigned to 1 member(s): Mo Member.')
  const assignedMail = await nextMail(MEMBER, new RegExp(`Anouk Admin (of|van) ${org.name} (asks you to take|vraagt je)`))
  expect(assignedMail.text).toContain('/academy/nextcloud-basics')

  await memberPage.goto('/academy')
  const assigned = memberPage.getByRole('region', { name: 'Assigned to me' })
  await expect(assigned.getByText(`Assigned by Anouk Admin of ${org.name}`)).toBeVisible()
  await assigned.getByRole('link', { name: 'Open course' }).click()
  await expect(memberPage.getByText(`Anouk Admin of ${org.name} asked you to take this course.`)).toBeVisible()
  await expect(memberPage.getByRole('button', { name: 'Start course' })).toBeVisible()

  // A member is no admin: the form is not there, and posting it anyway is refused.
  await expect(memberPage.getByRole('region', { name: `Assign this course to members of ${org.name}` })).toHaveCount(0)
  const forged = await memberPage.request.post('/academy/nextcloud-basics', {
    form: { intent: 'assign', organization: org.slug, scope: 'all' },
    headers: { Origin: origin },
  })
  expect(forged.status()).toBe(403)

  // The admin sees how far the member is with what the organisation assigned; a member may not look.
  await memberPage.getByRole('button', { name: 'Start course' }).click()
  await form.getByRole('link', { name: `See how the members of ${org.name} are getting on with the courses assigned to them` }).click()
  await expect(admin.page.getByRole('heading', { level: 1, name: `Courses assigned to members of ${org.name}` })).toBeVisible()
  const row = admin.page.getByRole('row', { name: /Mo Member/ })
  await expect(row).toContainText('Getting started with Nextcloud')
  await expect(row).toContainText(/0 of \d+ lessons/)
  await expectAccessible(admin.page, 'the courses assigned to members of an organisation')
  expect((await memberPage.goto(`/organisations/${org.slug}/courses`))?.status()).toBe(403)
  checkNoThirdParty()
  await memberContext.close()
  await admin.context.close()
})
