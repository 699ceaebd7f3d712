/**
 * The reverse proxy as a container, as in production: Caddy (image
 * commons/caddy, scripts/images.ts) on a network of its own, its :80
 * published on 127.0.0.1:<httpPort>. The provisioner connects it to every
 * instance network and adds one route per instance through the admin API.
 * (`hostIp` publishes it elsewhere, e.g. 0.0.0.0 on a Swarm node's engine,
 * whose 127.0.0.1 is its own namespace's and unreachable from the host.)
 *
 * The admin API is a unix socket in .data/proxy/<name>/ (bind-mounted at
 * /run/caddy-admin), not a TCP port: the proxy sits on every instance
 * network, and an admin port there would let any tool container rewrite the
 * routes of every organisation. Use `new CaddyRoutes(proxy.adminUrl)`.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type Docker from 'dockerode'
import { CaddyAdminError, CaddyRoutes } from '../provisioner/src/proxy/caddy.ts'
import { adminSocketDir } from '../provisioner/src/proxy/caddy-config.ts'
import { ensureLocalImages, images } from './images.ts'

export const roleLabel = 'org.commons.role'
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export type Proxy = {
  /** `unix:/…/admin.sock`, for CaddyRoutes. */
  adminUrl: string
  /** Where the proxy's :80 is published, e.g. http://127.0.0.1:18088 (for hostIp 0.0.0.0 this says 127.0.0.1: on another engine's host, use that host's address). */
  httpUrl: string
  containerName: string
  /** The proxy's own network (instance networks are connected later by the provisioner). */
  networkName: string
  /** Removes the container, its network and its admin folder (not the instance networks it was connected to). */
  stop(): Promise<void>
}

/** A container or network of that name exists but is not the proxy's. */
export class ProxyOwnershipError extends Error {
  override name = 'ProxyOwnershipError'
}

/**
 * Starts the proxy container, or reuses the one of that name when it runs the
 * current image with the same port and admin folder (otherwise replaces it).
 * Returns when the admin API answers and the http server exists.
 */
export async function ensureProxy(
  docker: Docker,
  opts: { name: string; httpPort: number; hostIp?: string; adminDir?: string; log?: (line: string) => void },
): Promise<Proxy> {
  const log = opts.log ?? (() => {})
  const { name, httpPort } = opts
  const hostIp = opts.hostIp ?? '127.0.0.1'
  const adminDir = opts.adminDir ?? path.join(root, '.data', 'proxy', name)
  mkdirSync(adminDir, { recursive: true })
  const adminUrl = `unix:${path.join(adminDir, 'admin.sock')}`
  const bind = `${adminDir}:${adminSocketDir}`
  const labels = { [roleLabel]: 'proxy' }

  const caddyImage = (await ensureLocalImages(docker, { only: ['caddy'], log })).find((r) => r.key === 'caddy')
  if (!caddyImage) throw new Error('ensureLocalImages did not report the caddy image')

  const network = docker.getNetwork(name)
  const networkInfo = await inspectOrUndefined(() => network.inspect())
  if (networkInfo === undefined) {
    await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: labels, CheckDuplicate: true })
  } else if (networkInfo.Labels?.[roleLabel] !== 'proxy') {
    throw new ProxyOwnershipError(`A network named ${name} exists but is not the proxy's (no ${roleLabel}=proxy label); choose another name.`)
  }

  const container = docker.getContainer(name)
  const existing = await inspectOrUndefined(() => container.inspect())
  let create = existing === undefined
  if (existing !== undefined) {
    if (existing.Config.Labels?.[roleLabel] !== 'proxy') {
      throw new ProxyOwnershipError(`A container named ${name} exists but is not a proxy (no ${roleLabel}=proxy label); choose another name.`)
    }
    const binding = existing.HostConfig.PortBindings?.['80/tcp']?.[0]
    const same =
      existing.Image === caddyImage.id && binding?.HostIp === hostIp && binding.HostPort === String(httpPort) && (existing.HostConfig.Binds ?? []).includes(bind)
    if (!same) {
      log(`Replacing the proxy container ${name} (its image, port or admin folder changed) …`)
      await container.remove({ force: true })
      create = true
    } else if (!existing.State.Running) {
      await container.start()
    }
  }
  if (create) {
    // A socket left by an earlier container answers nothing; Caddy makes a new one.
    rmSync(path.join(adminDir, 'admin.sock'), { force: true })
    log(`Starting the proxy container ${name} (http on ${hostIp}:${httpPort}) …`)
    await docker.createContainer({
      name,
      Image: images.caddy,
      Labels: labels,
      ExposedPorts: { '80/tcp': {} },
      HostConfig: {
        NetworkMode: name,
        PortBindings: { '80/tcp': [{ HostIp: hostIp, HostPort: String(httpPort) }] },
        Binds: [bind],
        RestartPolicy: { Name: 'unless-stopped' },
        CapDrop: ['ALL'],
        CapAdd: ['NET_BIND_SERVICE'],
        SecurityOpt: ['no-new-privileges:true'],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
    })
    await container.start()
  }

  await waitForAdmin(new CaddyRoutes(adminUrl), adminDir, async () => tail(await container.logs({ stdout: true, stderr: true, tail: 20 })))

  return {
    adminUrl,
    httpUrl: `http://${hostIp === '0.0.0.0' ? '127.0.0.1' : hostIp}:${httpPort}`,
    containerName: name,
    networkName: name,
    stop: async () => {
      await ignoreNotFound(() => container.remove({ force: true }))
      await ignoreNotFound(() => network.remove())
      rmSync(adminDir, { recursive: true, force: true })
    },
  }
}

async function waitForAdmin(routes: CaddyRoutes, adminDir: string, logs: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      await routes.ensureServer()
      return
    } catch (error) {
      // Not reachable yet (no socket, or nobody listening on it): keep waiting.
      if (!(error instanceof CaddyAdminError) || error.status !== undefined || Date.now() > deadline) {
        const socketNote = existsSync(path.join(adminDir, 'admin.sock')) ? '' : ` (no socket in ${adminDir})`
        throw new Error(`The proxy's admin API did not answer${socketNote}: ${error instanceof Error ? error.message : String(error)}\nContainer log:\n${await logs()}`, { cause: error })
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function tail(buffer: Buffer): string {
  // Docker's log stream frames each chunk with an 8-byte header; only the text matters here.
  const lines: string[] = []
  let offset = 0
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4)
    lines.push(buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'))
    offset += 8 + size
  }
  return lines.join('').trimEnd()
}

function statusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined
}

async function inspectOrUndefined<T>(inspect: () => Promise<T>): Promise<T | undefined> {
  try {
    return await inspect()
  } catch (error) {
    if (statusCode(error) === 404) return undefined
    throw error
  }
}

async function ignoreNotFound(action: () => Promise<unknown>): Promise<void> {
  try {
    await action()
  } catch (error) {
    if (statusCode(error) !== 404) throw error
  }
}
