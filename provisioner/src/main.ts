import { fileURLToPath } from 'node:url'
import { startProvisioner, type RunningProvisioner } from './app.ts'
import { EnvError, parseEnv, type Env } from './config.ts'
import { createLogger } from './log.ts'

export { createLogger } from './log.ts'
export { parseEnv } from './config.ts'

/**
 * The provisioner process: parses its environment, migrates its tables,
 * starts the control loop and the API, and stops both on SIGTERM/SIGINT.
 * See README.md for what it does and docs/architecture.md for why.
 */
async function main() {
  let env: Env
  try {
    env = parseEnv(process.env)
  } catch (error) {
    if (!(error instanceof EnvError)) throw error
    createLogger('info', (line) => process.stderr.write(line)).fatal(error.message)
    process.exitCode = 1
    return
  }
  const log = createLogger(env.LOG_LEVEL)
  let provisioner: RunningProvisioner
  try {
    provisioner = await startProvisioner(env, log)
  } catch (error) {
    log.fatal('could not start', { err: error instanceof Error ? error.message : String(error) })
    process.exitCode = 1
    return
  }

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log.info('shutting down', { signal })
    // A running step gets thirty seconds to finish; the next start picks up from wherever it is.
    const deadline = setTimeout(() => {
      log.warn('steps did not finish in time; exiting')
      process.exit(1)
    }, 30_000)
    deadline.unref()
    provisioner.close().then(
      () => log.info('stopped'),
      (error: unknown) => {
        log.error('could not stop cleanly', { err: error instanceof Error ? error.message : String(error) })
        process.exitCode = 1
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main()
}
