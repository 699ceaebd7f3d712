// maildev ships no types; the dev script uses only this much of it.
declare module 'maildev' {
  export default class MailDev {
    constructor(options: { smtp: number; web: number; ip: string; silent?: boolean })
    listen(callback: (error?: Error) => void): void
    close(callback: () => void): void
  }
}
