import pino from 'pino'

// JSON lines on stdout; secrets never logged (cookies, tokens, passwords are redacted).
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'portal' },
  redact: {
    paths: ['req.headers.cookie', 'req.headers.authorization', '*.password', '*.token', '*.secret', '*.idToken'],
    censor: '[redacted]',
  },
})
