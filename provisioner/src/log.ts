const levels = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10, silent: Infinity } as const
export type LogLevel = keyof typeof levels
type Level = Exclude<LogLevel, 'silent'>

export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>

/** JSON lines in pino's shape (numeric level, epoch ms), so the portal's and the provisioner's logs read alike. */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const entry = (name: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (levels[name] < levels[level]) return
    write(JSON.stringify({ level: levels[name], time: Date.now(), service: 'provisioner', ...fields, msg }) + '\n')
  }
  return {
    fatal: entry('fatal'),
    error: entry('error'),
    warn: entry('warn'),
    info: entry('info'),
    debug: entry('debug'),
    trace: entry('trace'),
  }
}
