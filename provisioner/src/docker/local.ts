import { PassThrough, Transform, type Readable, type TransformCallback, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import Docker from 'dockerode'
import tar from 'tar-stream'
import { LABEL, type ContainerSpec, type HealthSpec, type HookSpec } from '../spec.ts'
import {
  ImageUnavailableError,
  OwnershipError,
  type ContainerDriver,
  type ExecCommand,
  type ExecResult,
  type HelperRun,
  type HostInfo,
  type HostStatus,
  type ObservedContainer,
  type ObservedInstance,
} from './driver.ts'

export function statusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined
}
export const isNotFound = (error: unknown) => statusCode(error) === 404
/** Proves the object carries our label for exactly this instance before we change or delete it. */
export function assertOwned(object: string, labels: Record<string, string> | undefined | null, instanceId: string, owner: string) {
  if (labels?.[LABEL.managedBy] !== owner) throw new OwnershipError(object, `it is not managed by this provisioner (${owner})`)
  if (labels[LABEL.instance] !== instanceId) throw new OwnershipError(object, `it belongs to instance ${labels[LABEL.instance] ?? '(none)'}, not ${instanceId}`)
}

function emptyInstance(): ObservedInstance {
  return { network: { exists: false, proxyAttached: false }, volumes: new Set(), containers: [] }
}

/**
 * The driver for one Docker engine through its API. The reverse proxy runs as
 * a container (`proxyContainer`) that joins every instance network: it routes
 * to the instances and, because images need not contain curl, also runs the
 * http and tcp health probes from inside the instance network.
 */
export class LocalDockerDriver implements ContainerDriver {
  constructor(
    readonly docker: Docker,
    readonly proxyContainer: string,
    readonly owner: string,
    readonly pullImages = true,
    /** Image of the never-started containers that read volumes (exports); by default the proxy's. */
    readonly utilityImage?: string,
  ) {}

  private get managedFilter() {
    return { label: [`${LABEL.managedBy}=${this.owner}`] }
  }

  async observeAll(): Promise<Map<string, ObservedInstance>> {
    const [containers, networks, volumes] = await Promise.all([
      this.docker.listContainers({ all: true, filters: this.managedFilter }),
      this.docker.listNetworks({ filters: this.managedFilter }),
      this.docker.listVolumes({ filters: this.managedFilter }),
    ])
    const proxyNetworks = await this.proxyNetworks()
    const byInstance = new Map<string, ObservedInstance>()
    const get = (id: string) => {
      let entry = byInstance.get(id)
      if (!entry) byInstance.set(id, (entry = emptyInstance()))
      return entry
    }
    for (const n of networks) {
      const id = n.Labels?.[LABEL.instance]
      if (id) get(id).network = { exists: true, proxyAttached: proxyNetworks.has(n.Name) }
    }
    for (const v of volumes.Volumes ?? []) {
      const id = v.Labels?.[LABEL.instance]
      if (id) get(id).volumes.add(v.Name)
    }
    for (const c of containers) {
      const id = c.Labels[LABEL.instance]
      if (!id) continue
      get(id).containers.push(toObserved(c.Id, (c.Names[0] ?? '').replace(/^\//, ''), c.Labels, c.State === 'running'))
    }
    return byInstance
  }

  async observe(instanceId: string): Promise<ObservedInstance> {
    const filters = { label: [`${LABEL.managedBy}=${this.owner}`, `${LABEL.instance}=${instanceId}`] }
    const [containers, networks, volumes, proxyNetworks] = await Promise.all([
      this.docker.listContainers({ all: true, filters }),
      this.docker.listNetworks({ filters }),
      this.docker.listVolumes({ filters }),
      this.proxyNetworks(),
    ])
    const observed = emptyInstance()
    const network = networks[0]
    if (network) observed.network = { exists: true, proxyAttached: proxyNetworks.has(network.Name) }
    for (const v of volumes.Volumes ?? []) observed.volumes.add(v.Name)
    for (const c of containers) observed.containers.push(toObserved(c.Id, (c.Names[0] ?? '').replace(/^\//, ''), c.Labels, c.State === 'running'))
    return observed
  }

  private async proxyNetworks(): Promise<Set<string>> {
    const info = await this.docker.getContainer(this.proxyContainer).inspect()
    return new Set(Object.keys(info.NetworkSettings.Networks ?? {}))
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<void> {
    const network = this.docker.getNetwork(name)
    try {
      const info = (await network.inspect()) as { Labels?: Record<string, string> }
      assertOwned(`network ${name}`, info.Labels, labels[LABEL.instance] ?? '', this.owner)
    } catch (error) {
      if (!isNotFound(error)) throw error
      // A bridge network of its own: no other instance's containers join it,
      // so one organisation's tools cannot reach another's.
      await this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels })
    }
    const proxy = await this.proxyNetworks()
    if (!proxy.has(name)) {
      try {
        await network.connect({ Container: this.proxyContainer })
      } catch (error) {
        // Another pass may have connected it in between; anything else is real.
        if (statusCode(error) !== 403 || !(await this.proxyNetworks()).has(name)) throw error
      }
    }
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    try {
      const info = await this.docker.getVolume(name).inspect()
      assertOwned(`volume ${name}`, info.Labels, labels[LABEL.instance] ?? '', this.owner)
    } catch (error) {
      if (!isNotFound(error)) throw error
      await this.docker.createVolume({ Name: name, Labels: labels })
    }
  }

  private async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect()
      return
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
    if (!this.pullImages) throw new ImageUnavailableError(image, new Error('pulling is switched off (PULL_IMAGES=false)'))
    try {
      const stream = await this.docker.pull(image)
      await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())))
    } catch (error) {
      throw new ImageUnavailableError(image, error)
    }
  }

  async ensureContainer(spec: ContainerSpec, network: string): Promise<string> {
    const container = this.docker.getContainer(spec.name)
    const instanceId = spec.labels[LABEL.instance] ?? ''
    let info: Docker.ContainerInspectInfo | undefined
    try {
      info = await container.inspect()
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
    if (info) {
      assertOwned(`container ${spec.name}`, info.Config.Labels, instanceId, this.owner)
      if (info.Config.Labels[LABEL.configHash] === spec.hash) {
        if (!info.State.Running) await container.start()
        return info.Id
      }
      // The configuration changed (recipe upgrade, new secret): a new container.
      await container.remove({ force: true })
    }
    await this.ensureImage(spec.image)
    const created = await this.docker.createContainer(createOptions(spec, spec.name, network, spec.command))
    await this.writeFiles(created, spec)
    await created.start()
    return created.id
  }

  /**
   * Volume owners set without running anything: a container of the service's
   * image that never starts gets the volumes' root directories (with owner)
   * through the archive API. The Swarm driver uses it on the volumes' host
   * before the service's task starts there.
   */
  async prepareVolumes(spec: Pick<ContainerSpec, 'image' | 'mounts' | 'labels' | 'name'>): Promise<void> {
    const owned = spec.mounts.filter((m) => m.owner)
    if (owned.length === 0) return
    await this.ensureImage(spec.image)
    const container = await this.docker.createContainer({
      Image: spec.image,
      Entrypoint: [],
      Cmd: ['true'],
      Labels: { [LABEL.managedBy]: this.owner, [LABEL.instance]: spec.labels[LABEL.instance] ?? '', [LABEL.hook]: 'prepare' },
      HostConfig: { NetworkMode: 'none', Mounts: owned.map((m) => ({ Type: 'volume' as const, Source: m.volume, Target: m.path })) },
    })
    try {
      await this.writeFiles(container, { files: [], mounts: owned })
    } finally {
      await container.remove({ force: true }).catch(() => undefined)
    }
  }

  /** Config files and volume owners go in before the first start, through the API (no host paths). */
  private async writeFiles(container: Docker.Container, spec: Pick<ContainerSpec, 'files' | 'mounts'>): Promise<void> {
    const owned = spec.mounts.filter((m) => m.owner)
    if (spec.files.length === 0 && owned.length === 0) return
    const pack = tar.pack()
    const dirs = new Set<string>()
    for (const m of owned) {
      const [uid, gid] = (m.owner ?? '0:0').split(':').map(Number)
      pack.entry({ name: m.path.replace(/^\//, '') + '/', type: 'directory', mode: 0o755, uid, gid })
      dirs.add(m.path)
    }
    for (const f of spec.files) {
      const parts = f.path.split('/').filter(Boolean)
      for (let i = 1; i < parts.length; i++) {
        const dir = '/' + parts.slice(0, i).join('/')
        if (dirs.has(dir)) continue
        dirs.add(dir)
        pack.entry({ name: dir.slice(1) + '/', type: 'directory', mode: 0o755 })
      }
      pack.entry({ name: parts.join('/'), mode: 0o644 }, f.content)
    }
    pack.finalize()
    const chunks: Buffer[] = []
    for await (const chunk of pack) chunks.push(chunk as Buffer)
    await container.putArchive(Buffer.concat(chunks), { path: '/' })
  }

  async stopContainer(name: string, instanceId: string): Promise<void> {
    const container = await this.owned(name, instanceId)
    if (!container) return
    try {
      await container.stop({ t: 20 })
    } catch (error) {
      if (statusCode(error) !== 304) throw error // 304: already stopped
    }
  }

  async restartContainer(name: string, instanceId: string): Promise<void> {
    const container = await this.owned(name, instanceId)
    if (!container) throw new Error(`container ${name} does not exist`)
    await container.restart({ t: 20 })
  }

  async removeContainer(name: string, instanceId: string): Promise<void> {
    const container = await this.owned(name, instanceId)
    if (!container) return
    try {
      await container.remove({ force: true })
    } catch (error) {
      if (isNotFound(error)) return
      // Someone (an export finishing) is removing it already: it is going.
      if (statusCode(error) === 409 && error instanceof Error && /already in progress/.test(error.message)) return
      throw error
    }
  }

  async removeNetwork(name: string, instanceId: string): Promise<void> {
    const network = this.docker.getNetwork(name)
    let info: { Labels?: Record<string, string> }
    try {
      info = (await network.inspect()) as { Labels?: Record<string, string> }
    } catch (error) {
      if (isNotFound(error)) return
      throw error
    }
    assertOwned(`network ${name}`, info.Labels, instanceId, this.owner)
    if ((await this.proxyNetworks()).has(name)) {
      try {
        await network.disconnect({ Container: this.proxyContainer, Force: true })
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    }
    try {
      await network.remove()
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }

  async removeVolume(name: string, instanceId: string): Promise<void> {
    const volume = this.docker.getVolume(name)
    try {
      assertOwned(`volume ${name}`, (await volume.inspect()).Labels, instanceId, this.owner)
      await volume.remove()
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }

  private async owned(name: string, instanceId: string): Promise<Docker.Container | undefined> {
    const container = this.docker.getContainer(name)
    try {
      assertOwned(`container ${name}`, (await container.inspect()).Config.Labels, instanceId, this.owner)
      return container
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  async exec(containerName: string, hook: Pick<HookSpec, 'command' | 'env' | 'user' | 'workdir'>): Promise<ExecResult> {
    return this.execIn(this.docker.getContainer(containerName), hook.command, hook.env, hook.user, hook.workdir)
  }

  private async execIn(container: Docker.Container, command: string[], env: Record<string, string> = {}, user?: string, workdir?: string): Promise<ExecResult> {
    const exec = await container.exec({
      Cmd: command,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      User: user,
      WorkingDir: workdir,
      AttachStdout: true,
      AttachStderr: true,
    })
    const stream = await exec.start({ hijack: true, stdin: false })
    const output = await collect(this.docker, stream)
    const { ExitCode } = await exec.inspect()
    return { exitCode: ExitCode ?? -1, output }
  }

  async runOnce(hook: HookSpec, service: ContainerSpec, network: string): Promise<ExecResult> {
    const instanceId = service.labels[LABEL.instance] ?? ''
    await this.removeContainer(hook.containerName, instanceId)
    await this.ensureImage(service.image)
    const options = createOptions({ ...service, user: hook.user ?? service.user, env: { ...service.env, ...hook.env } }, hook.containerName, network, hook.command)
    options.Labels = { ...service.labels, [LABEL.service]: '', [LABEL.hook]: hook.name }
    options.WorkingDir = hook.workdir
    options.HostConfig = { ...options.HostConfig, RestartPolicy: { Name: 'no' } }
    const container = await this.docker.createContainer(options)
    try {
      await this.writeFiles(container, service)
      await container.start()
      const result = (await container.wait()) as { StatusCode: number }
      const logs = await container.logs({ stdout: true, stderr: true, follow: false, tail: 50 })
      return { exitCode: result.StatusCode, output: demuxBuffer(logs).join('\n') }
    } finally {
      await container.remove({ force: true })
    }
  }

  async probe(containerName: string, health: HealthSpec): Promise<boolean> {
    const timeout = String(health.timeoutSeconds)
    let result: ExecResult
    switch (health.type) {
      // Busybox as Debian builds it: its wget crashes with -T and its nc has
      // no -z, so `timeout` bounds wget and nc runs `true` once connected.
      case 'http':
        result = await this.execIn(this.docker.getContainer(this.proxyContainer), ['timeout', timeout, 'wget', '-q', '-O', '/dev/null', `http://${containerName}:${health.port}${health.path}`])
        break
      case 'tcp':
        result = await this.execIn(this.docker.getContainer(this.proxyContainer), ['nc', '-w', timeout, containerName, String(health.port), '-e', 'true'])
        break
      case 'command':
        result = await this.execIn(this.docker.getContainer(containerName), health.command)
        break
    }
    return result.exitCode === 0
  }

  async logs(containerName: string, tail: number): Promise<string[]> {
    try {
      const buffer = await this.docker.getContainer(containerName).logs({ stdout: true, stderr: true, follow: false, tail, timestamps: true })
      return demuxBuffer(buffer)
    } catch (error) {
      if (isNotFound(error)) return []
      throw error
    }
  }

  async runHelper(run: HelperRun): Promise<ExecResult> {
    await this.removeContainer(run.name, run.instanceId)
    await this.ensureImage(run.image)
    const container = await this.docker.createContainer({
      name: run.name,
      Image: run.image,
      Entrypoint: [],
      Cmd: run.command,
      Env: Object.entries(run.env ?? {}).map(([k, v]) => `${k}=${v}`),
      Labels: { [LABEL.managedBy]: this.owner, [LABEL.instance]: run.instanceId, [LABEL.hook]: run.purpose },
      OpenStdin: run.stdin !== undefined,
      StdinOnce: run.stdin !== undefined,
      AttachStdin: run.stdin !== undefined,
      HostConfig: {
        NetworkMode: run.network ?? 'none',
        Mounts: run.mounts.map((m) =>
          'volume' in m
            ? { Type: 'volume' as const, Source: m.volume, Target: m.path, ReadOnly: m.readOnly ?? false }
            : { Type: 'bind' as const, Source: m.bind, Target: m.path, ReadOnly: m.readOnly ?? false },
        ),
        RestartPolicy: { Name: 'no' },
        Init: true,
        SecurityOpt: ['no-new-privileges:true'],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '1' } },
      },
    })
    try {
      if (run.files?.length) {
        const pack = tar.pack()
        for (const f of run.files) pack.entry({ name: f.path.replace(/^\//, ''), mode: 0o600 }, f.content)
        pack.finalize()
        const chunks: Buffer[] = []
        for await (const chunk of pack) chunks.push(chunk as Buffer)
        await container.putArchive(Buffer.concat(chunks), { path: '/' })
      }
      let feeding: Promise<void> | undefined
      if (run.stdin) {
        const socket = (await container.attach({ stream: true, stdin: true, stdout: false, stderr: false, hijack: true })) as NodeJS.ReadWriteStream
        // Nothing is read back on this connection; reading keeps it flowing.
        ;(socket as unknown as Readable).resume()
        feeding = pipeline(run.stdin, socket as unknown as Writable)
      }
      await container.start()
      const [result] = await Promise.all([container.wait() as Promise<{ StatusCode: number }>, feeding])
      const logs = await container.logs({ stdout: true, stderr: true, follow: false, tail: 200 }).catch((error: unknown) => {
        throw new Error(`helper ${run.name} (${run.purpose}) ended with ${result.StatusCode}, its output is lost: ${error instanceof Error ? error.message : String(error)}`)
      })
      return { exitCode: result.StatusCode, output: demuxBuffer(logs).join('\n') }
    } finally {
      await container.remove({ force: true }).catch(() => undefined)
    }
  }

  async execStream(containerName: string, command: ExecCommand, io: { stdout?: Writable; stdin?: Readable }): Promise<ExecResult> {
    const exec = await this.docker.getContainer(containerName).exec({
      Cmd: command.command,
      Env: Object.entries(command.env ?? {}).map(([k, v]) => `${k}=${v}`),
      User: command.user,
      WorkingDir: command.workdir,
      AttachStdin: io.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
    })
    const stream = (await exec.start({ hijack: true, stdin: io.stdin !== undefined })) as unknown as NodeJS.ReadWriteStream
    const demux = new Demux()
    const work: Promise<unknown>[] = [io.stdout ? pipeline(stream as unknown as Readable, demux, io.stdout) : pipeline(stream as unknown as Readable, demux, new PassThrough().resume())]
    if (io.stdin) {
      const stdin = io.stdin
      // Half-close when the input ends: the command sees EOF, its output still comes back.
      work.push(
        new Promise<void>((resolve, reject) => {
          stdin.on('error', reject)
          stdin.on('end', () => {
            ;(stream as unknown as Writable).end()
            resolve()
          })
          stdin.pipe(stream as unknown as Writable, { end: false })
        }),
      )
    }
    await Promise.all(work)
    const { ExitCode } = await exec.inspect()
    return { exitCode: ExitCode ?? -1, output: demux.stderr() }
  }

  async readVolumeFile(volume: string, filePath: string, instanceId: string, image: string): Promise<Readable> {
    assertOwned(`volume ${volume}`, (await this.docker.getVolume(volume).inspect()).Labels, instanceId, this.owner)
    await this.ensureImage(image)
    const container = await this.docker.createContainer({
      Image: image,
      Entrypoint: [],
      Cmd: ['true'],
      Labels: { [LABEL.managedBy]: this.owner, [LABEL.instance]: instanceId, [LABEL.hook]: 'read' },
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume' as const, Source: volume, Target: '/volume', ReadOnly: true }] },
    })
    const cleanup = () => void container.remove({ force: true }).catch(() => undefined)
    try {
      const archive = await container.getArchive({ path: `/volume/${filePath.replace(/^\//, '')}` })
      const extract = tar.extract()
      const out = new PassThrough()
      extract.on('entry', (header, entry, next) => {
        if (header.type !== 'file') {
          entry.resume()
          entry.on('end', next)
          return
        }
        entry.pipe(out)
        entry.on('end', next)
      })
      extract.on('finish', () => {
        out.end()
        cleanup()
      })
      extract.on('error', (error) => {
        out.destroy(error)
        cleanup()
      })
      archive.pipe(extract)
      return out
    } catch (error) {
      cleanup()
      throw error
    }
  }

  async hosts(): Promise<HostStatus[]> {
    return [{ ...(await this.hostInfo()), reachable: true, error: null }]
  }

  async hostInfo(): Promise<HostInfo> {
    const info = (await this.docker.info()) as {
      Name?: string
      ServerVersion?: string
      OperatingSystem?: string
      NCPU?: number
      MemTotal?: number
      ContainersRunning?: number
      ContainersStopped?: number
      Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean }
    }
    const swarm = info.Swarm?.LocalNodeState === 'active' ? (info.Swarm.ControlAvailable ? 'manager' : 'worker') : (info.Swarm?.LocalNodeState ?? 'inactive')
    return {
      name: info.Name ?? '',
      engineVersion: info.ServerVersion ?? '',
      operatingSystem: info.OperatingSystem ?? '',
      cpus: info.NCPU ?? 0,
      memoryBytes: info.MemTotal ?? 0,
      containersRunning: info.ContainersRunning ?? 0,
      containersStopped: info.ContainersStopped ?? 0,
      swarm,
    }
  }

  async ensureSharedVolume(name: string): Promise<void> {
    try {
      const info = await this.docker.getVolume(name).inspect()
      if (info.Labels?.[LABEL.managedBy] !== this.owner) throw new OwnershipError(`volume ${name}`, `it is not managed by this provisioner (${this.owner})`)
    } catch (error) {
      if (!isNotFound(error)) throw error
      await this.docker.createVolume({ Name: name, Labels: { [LABEL.managedBy]: this.owner } })
    }
  }

  async exportVolumes(volumes: string[], instanceId: string): Promise<Readable> {
    for (const v of volumes) assertOwned(`volume ${v}`, (await this.docker.getVolume(v).inspect()).Labels, instanceId, this.owner)
    // A container that is created but never started is enough to read volumes
    // through the archive API; the proxy's image is always on the host.
    const image = this.utilityImage ?? (await this.docker.getContainer(this.proxyContainer).inspect()).Image
    const container = await this.docker.createContainer({
      Image: image,
      Cmd: ['true'],
      Labels: { [LABEL.managedBy]: this.owner, [LABEL.instance]: instanceId, [LABEL.hook]: 'export' },
      HostConfig: { Mounts: volumes.map((v) => ({ Type: 'volume' as const, Source: v, Target: `/export/${v}`, ReadOnly: true })) },
    })
    const archive = await container.getArchive({ path: '/export' })
    const out = new PassThrough()
    archive.pipe(out)
    const cleanup = () => {
      container.remove({ force: true }).catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))))
    }
    out.once('close', cleanup)
    return out
  }
}

export function toObserved(id: string, name: string, labels: Record<string, string>, running: boolean): ObservedContainer {
  return {
    id,
    name,
    instance: labels[LABEL.instance] ?? '',
    service: labels[LABEL.service] || undefined,
    hook: labels[LABEL.hook] || undefined,
    running,
    hash: labels[LABEL.configHash],
  }
}

function createOptions(spec: ContainerSpec, name: string, network: string, command: string[] | undefined): Docker.ContainerCreateOptions {
  return {
    name,
    Image: spec.image,
    Cmd: command,
    User: spec.user,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    HostConfig: {
      NetworkMode: network,
      Mounts: spec.mounts.map((m) => ({ Type: 'volume' as const, Source: m.volume, Target: m.path, ReadOnly: m.readOnly })),
      Memory: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      RestartPolicy: { Name: 'unless-stopped' },
      // A real PID 1 (docker-init): signals reach the tool's process, so a
      // stop takes a moment instead of the full timeout, and zombies are reaped.
      Init: true,
      SecurityOpt: ['no-new-privileges:true'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.service] } } },
  }
}

/** Output of an exec, both streams interleaved in arrival order. */
async function collect(docker: Docker, stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  const sink = new PassThrough()
  sink.on('data', (c: Buffer) => chunks.push(c))
  docker.modem.demuxStream(stream, sink, sink)
  await new Promise<void>((resolve, reject) => {
    stream.once('end', resolve)
    stream.once('close', resolve)
    stream.once('error', reject)
  })
  return Buffer.concat(chunks).toString('utf8')
}

/** Docker's multiplexed stream (8-byte header per frame): stdout passes on with backpressure; the tail of stderr is kept. */
class Demux extends Transform {
  #pending: Buffer = Buffer.alloc(0)
  #stderr: Buffer[] = []
  #stderrSize = 0

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk
    while (this.#pending.length >= 8) {
      const size = this.#pending.readUInt32BE(4)
      if (this.#pending.length < 8 + size) break
      const kind = this.#pending[0]
      const payload = this.#pending.subarray(8, 8 + size)
      if (kind === 2) {
        this.#stderr.push(Buffer.from(payload))
        this.#stderrSize += size
        while (this.#stderrSize > 64 * 1024 && this.#stderr.length > 1) this.#stderrSize -= this.#stderr.shift()?.length ?? 0
      } else {
        this.push(Buffer.from(payload))
      }
      this.#pending = this.#pending.subarray(8 + size)
    }
    done()
  }

  stderr(): string {
    return Buffer.concat(this.#stderr).toString('utf8').slice(-4000)
  }
}

/** Docker's multiplexed log format: 8-byte header (stream, 0, 0, 0, size) per frame. */
export function demuxBuffer(buffer: Buffer): string[] {
  let text = ''
  let offset = 0
  if (buffer.length >= 8 && buffer[0]! <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0) {
    while (offset + 8 <= buffer.length) {
      const size = buffer.readUInt32BE(offset + 4)
      text += buffer.subarray(offset + 8, offset + 8 + size).toString('utf8')
      offset += 8 + size
    }
  } else {
    text = buffer.toString('utf8')
  }
  return text.split('\n').filter((line) => line.length > 0)
}
