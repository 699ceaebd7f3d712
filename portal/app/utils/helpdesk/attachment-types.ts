/** What people may attach, in words for the help text (the server decides by content: attachments.server.ts). */
export const ALLOWED_ATTACHMENT_LABELS = ['PNG', 'JPEG', 'GIF', 'WebP', 'PDF', 'TXT/CSV/LOG', 'OpenDocument (ODT, ODS, ODP)', 'Word, Excel, PowerPoint (DOCX, XLSX, PPTX)']
