/**
 * The strings of the helpdesk's privacy page, the ticket export and the
 * scheduler's notices, in English and Dutch; merged into the dictionaries of
 * i18n.ts. `helpdeskPrivacyNl` must have the same keys as `helpdeskPrivacyEn`.
 */
export const helpdeskPrivacyEn = {
  'privacy.title': 'Helpdesk privacy',
  'privacy.intro':
    'Requests under the GDPR (AVG) for the helpdesk: erase a person, and see how long closed tickets are kept. An organisation’s admins download their own tickets from their organisation’s page.',
  'privacy.erase.title': 'Erase a person',
  'privacy.erase.explain':
    'The tickets stay, so the others on them can still read what happened, but they no longer say who this person was: their name and address are replaced on the tickets they opened and the messages they wrote, and cut out of every ticket’s subject and text. Their attachments, follow-ups and saved views are deleted, and the history keeps what happened without their name. Their portal account itself is not changed.',
  'privacy.field.email': 'E-mail address of the person',
  'privacy.field.email.help': 'For a member, the address they sign in with; for a guest, the address they wrote from.',
  'privacy.confirm': 'I understand this cannot be undone',
  'privacy.mustConfirm': 'Tick the box to confirm that the erasure cannot be undone.',
  'privacy.submit': 'Erase this person',
  'privacy.nothingFound': 'Nothing found for {email}: the helpdesk holds no tickets, messages or mentions of this address, so nothing was changed.',
  'privacy.erased': 'The person with the address {email} was erased from the helpdesk.',
  'privacy.counts.title': 'What was changed',
  'privacy.counts.tickets': 'Tickets they opened: {count}',
  'privacy.counts.messages': 'Messages and notes they wrote: {count}',
  'privacy.counts.mentions': 'Tickets that mentioned them: {count}',
  'privacy.counts.attachments': 'Attachments deleted: {count}',
  'privacy.counts.follows': 'Follow-ups and open views removed: {count}',
  'privacy.counts.events': 'History lines without their name: {count}',
  'privacy.counts.unassigned': 'Tickets no longer assigned to them: {count}',
  'privacy.counts.mails': 'Helpdesk mails to them removed from the outbox: {count}',
  'privacy.retention.title': 'How long closed tickets are kept',
  'privacy.retention.explain':
    'Closed tickets are deleted {days} days after they were closed, with their messages, notes, history and attachments. Right now that means tickets closed before {date}. The period is set with HELPDESK_RETENTION_DAYS.',
  'privacy.export.link': 'Download all tickets of {org}',
  'privacy.export.help': 'A tar archive with every ticket, message, internal note, history line and attachment of the organisation.',

  'scheduler.target.firstResponse': 'first response',
  'scheduler.target.resolution': 'resolution',
} as const

export const helpdeskPrivacyNl: Record<keyof typeof helpdeskPrivacyEn, string> = {
  'privacy.title': 'Privacy van de helpdesk',
  'privacy.intro':
    'Verzoeken onder de AVG voor de helpdesk: een persoon wissen, en zien hoe lang gesloten tickets bewaard blijven. De beheerders van een organisatie downloaden hun eigen tickets via de pagina van hun organisatie.',
  'privacy.erase.title': 'Een persoon wissen',
  'privacy.erase.explain':
    'De tickets blijven bestaan, zodat de anderen erop nog kunnen lezen wat er gebeurde, maar ze zeggen niet meer wie deze persoon was: naam en adres worden vervangen op de tickets die de persoon opende en de berichten die de persoon schreef, en uit het onderwerp en de tekst van elk ticket gehaald. Bijlagen, volgers en opgeslagen weergaven van de persoon worden verwijderd, en de geschiedenis houdt wat er gebeurde zonder de naam. Het portaalaccount zelf verandert niet.',
  'privacy.field.email': 'E-mailadres van de persoon',
  'privacy.field.email.help': 'Voor een lid het adres waarmee die inlogt; voor een gast het adres waarvandaan die schreef.',
  'privacy.confirm': 'Ik begrijp dat dit niet ongedaan kan worden gemaakt',
  'privacy.mustConfirm': 'Vink het vakje aan om te bevestigen dat het wissen niet ongedaan kan worden gemaakt.',
  'privacy.submit': 'Deze persoon wissen',
  'privacy.nothingFound': 'Niets gevonden voor {email}: de helpdesk heeft geen tickets, berichten of vermeldingen van dit adres, dus er is niets veranderd.',
  'privacy.erased': 'De persoon met het adres {email} is uit de helpdesk gewist.',
  'privacy.counts.title': 'Wat er veranderd is',
  'privacy.counts.tickets': 'Tickets die de persoon opende: {count}',
  'privacy.counts.messages': 'Berichten en notities van de persoon: {count}',
  'privacy.counts.mentions': 'Tickets waarin de persoon genoemd werd: {count}',
  'privacy.counts.attachments': 'Verwijderde bijlagen: {count}',
  'privacy.counts.follows': 'Verwijderde volgers en open weergaven: {count}',
  'privacy.counts.events': 'Geschiedenisregels zonder de naam: {count}',
  'privacy.counts.unassigned': 'Tickets niet meer aan de persoon toegewezen: {count}',
  'privacy.counts.mails': 'Helpdeskmails aan de persoon uit de wachtrij gehaald: {count}',
  'privacy.retention.title': 'Hoe lang gesloten tickets bewaard blijven',
  'privacy.retention.explain':
    'Gesloten tickets worden {days} dagen na het sluiten verwijderd, met hun berichten, notities, geschiedenis en bijlagen. Op dit moment zijn dat tickets die gesloten zijn vóór {date}. De termijn wordt ingesteld met HELPDESK_RETENTION_DAYS.',
  'privacy.export.link': 'Alle tickets van {org} downloaden',
  'privacy.export.help': 'Een tar-archief met elk ticket, bericht, interne notitie, geschiedenisregel en bijlage van de organisatie.',

  'scheduler.target.firstResponse': 'eerste reactie',
  'scheduler.target.resolution': 'oplossing',
}
