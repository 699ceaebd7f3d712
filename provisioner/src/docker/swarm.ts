import type { Readable, Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type Docker from 'dockerode'
import { LABEL, type ContainerSpec, type HealthSpec, type HookSpec } from '../spec.ts'
import {
  HostError,
  ImageUnavailableError,
  type ContainerDriver,
  type ExecCommand,
  type ExecResult,
  type HelperRun,
  type HostStatus,
  type ObservedInstance,
  type Placement,
} from './driver.ts'
import { assertOwned, isNotFound, LocalDockerDriver, statusCode, toObserved } from './local.ts'

/** Network label naming the host that keeps an instance's volumes. */
export const NODE_LABEL = 'org.commons.node'
/** Network label of an instance whose volumes are on the shared storage. */
export const STORAGE_LABEL = 'org.commons.storage'
/** Swarm's own label on the containers of its tasks. */
const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.id'

export type SwarmOptions = {
  proxyContainer: string
  owner: string
  pullImages: boolean
  /**
   * The Docker engine of every other node, by its hostname (exec, volumes,
   * helpers and one-off containers run on a node's own engine: the Swarm API
   * does not reach into nodes). The manager's own engine needs no entry.
   */
  engines: Map<string, Docker>
  /** Placement constraints every service gets, e.g. `node.labels.commons.tools==true`. */
  constraints: string[]
  /** IPsec between hosts on every instance network (Swarm's `encrypted` overlay option). */
  encrypted: boolean
  /** How long a service may take to have a running task before the step fails. */
  taskTimeoutMs: number
  /** A folder that is the same storage on every host; volumes of tools that allow it are bound to folders in it. */
  sharedStorage?: string
}

type SwarmNode = {
  id: string
  hostname: string
  /** "ready", "down", "unknown", "disconnected". */
  state: string
  /** "active", "pause", "drain". */
  availability: string
  role: string
  address: string
  labels: Record<string, string>
  memoryBytes: number
  nanoCpus: number
  engineVersion: string
  os: string
}

type Task = {
  ID: string
  ServiceID: string
  NodeID?: string
  DesiredState: string
  CreatedAt?: string
  Status: { State: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string } }
  Spec: { ContainerSpec?: { Labels?: Record<string, string> }; Resources?: { Reservations?: { MemoryBytes?: number } } }
}

type ServiceInfo = {
  ID: string
  Version: { Index: number }
  Spec: Docker.ServiceSpec & { Labels?: Record<string, string>; TaskTemplate?: { ForceUpdate?: number; Placement?: { Constraints?: string[] } } }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`

/**
 * The driver for a Docker Swarm: every recipe service is a Swarm service (one
 * replica) on an overlay network of its instance's own, encrypted between
 * hosts and attachable, so the proxy container on the manager and the
 * one-off hook containers can join it.
 *
 * Placement: an instance with volumes is given one host when its network is
 * made (the one with the most memory not yet reserved, among the hosts the
 * platform's constraints allow), recorded as a label on that network, and all
 * its services are constrained to that host: its volumes stay with its data.
 * An instance without volumes is placed by Swarm alone and moves when its
 * host is lost. Every service reserves the memory its recipe names, so Swarm
 * itself never puts more on a host than it has.
 *
 * What the Swarm API cannot do (exec, volumes, logs of a task, helpers) goes
 * to the engine of the node concerned, through a LocalDockerDriver for it.
 */
export class SwarmDriver implements ContainerDriver {
  readonly #locals = new Map<string, LocalDockerDriver>()
  /** instance id → its host, or null when it may run anywhere. */
  readonly #placement = new Map<string, string | null>()
  /** Instances whose volumes are on the shared storage. */
  readonly #shared = new Set<string>()
  /** instance id → its volumes when its host last answered. */
  readonly #lastVolumes = new Map<string, Set<string>>()
  #managerHost?: string
  #utilityImage?: string

  constructor(
    readonly manager: Docker,
    readonly opts: SwarmOptions,
  ) {}

  private get managedFilter() {
    return { label: [`${LABEL.managedBy}=${this.opts.owner}`] }
  }

  // ---- nodes and their engines ------------------------------------------------

  private async managerHost(): Promise<string> {
    if (!this.#managerHost) {
      const info = (await this.manager.info()) as { Name?: string; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }
      if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
        throw new Error(
          `the Docker engine at DOCKER_SOCKET is not a Swarm manager (swarm state: ${info.Swarm?.LocalNodeState ?? 'unknown'}): run "docker swarm init" on it, or use PROVISIONER_DRIVER=local`,
        )
      }
      this.#managerHost = info.Name ?? ''
    }
    return this.#managerHost
  }

  private async nodes(): Promise<SwarmNode[]> {
    const nodes = (await this.manager.listNodes()) as {
      ID: string
      Spec: { Role?: string; Availability?: string; Labels?: Record<string, string> }
      Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number }; Engine?: { EngineVersion?: string }; Platform?: { OS?: string } }
      Status?: { State?: string; Addr?: string }
    }[]
    return nodes.map((n) => ({
      id: n.ID,
      hostname: n.Description?.Hostname ?? n.ID,
      state: n.Status?.State ?? 'unknown',
      availability: n.Spec.Availability ?? 'active',
      role: n.Spec.Role ?? 'worker',
      address: n.Status?.Addr ?? '',
      labels: n.Spec.Labels ?? {},
      memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
      nanoCpus: n.Description?.Resources?.NanoCPUs ?? 0,
      engineVersion: n.Description?.Engine?.EngineVersion ?? '',
      os: n.Description?.Platform?.OS ?? '',
    }))
  }

  private async utilityImage(): Promise<string> {
    this.#utilityImage ??= (await this.manager.getContainer(this.opts.proxyContainer).inspect()).Config.Image
    return this.#utilityImage
  }

  /** The engine of one host; a down host is refused at once rather than waited for. */
  private async local(hostname: string, nodes?: SwarmNode[]): Promise<LocalDockerDriver> {
    const managerHost = await this.managerHost()
    if (hostname !== managerHost) {
      const node = (nodes ?? (await this.nodes())).find((n) => n.hostname === hostname)
      if (!node) throw new HostError(`The host "${hostname}" that keeps this tool's data is no longer in the swarm.`, `no swarm node has hostname ${hostname}`)
      if (node.state !== 'ready') {
        throw new HostError(
          `The host "${hostname}" that keeps this tool's data is down. The tool comes back when the host does; its data stays there.`,
          `swarm node ${hostname} is ${node.state}`,
          hostname,
        )
      }
    }
    let local = this.#locals.get(hostname)
    if (!local) {
      const docker = hostname === managerHost ? this.manager : this.opts.engines.get(hostname)
      if (!docker) {
        throw new HostError(
          `The provisioner cannot reach the host "${hostname}".`,
          `no Docker engine is configured for swarm node ${hostname}: add "${hostname}=ssh://commons@<its address>" to SWARM_NODE_ENGINES`,
        )
      }
      local = new LocalDockerDriver(docker, this.opts.proxyContainer, this.opts.owner, this.opts.pullImages, await this.utilityImage())
      this.#locals.set(hostname, local)
    }
    return local
  }

  /**
   * Work on one host's engine; an engine that does not answer (the host is
   * lost, and Swarm has not noticed yet) is a HostError, in words.
   */
  private async on<T>(host: string, work: (local: LocalDockerDriver) => Promise<T>): Promise<T> {
    const local = await this.local(host)
    try {
      return await work(local)
    } catch (error) {
      if (!unreachable(error)) throw error
      throw new HostError(
        `The host "${host}" that keeps this tool's data does not answer. The tool comes back when the host does; its data stays there.`,
        `the Docker engine of swarm node ${host} does not answer: ${error instanceof Error ? error.message : String(error)}`,
        host,
      )
    }
  }

  /** Where an instance lives: its host, null when anywhere, undefined before its network exists. */
  private async placementOf(instanceId: string): Promise<string | null | undefined> {
    if (this.#placement.has(instanceId)) return this.#placement.get(instanceId)
    const filters = { label: [`${LABEL.managedBy}=${this.opts.owner}`, `${LABEL.instance}=${instanceId}`] }
    const network = (await this.manager.listNetworks({ filters }))[0]
    if (!network) return undefined
    this.remember(instanceId, network.Labels)
    return this.#placement.get(instanceId)
  }

  private remember(instanceId: string, labels: Record<string, string> | undefined) {
    this.#placement.set(instanceId, labels?.[NODE_LABEL] ?? null)
    if (labels?.[STORAGE_LABEL] === 'shared') this.#shared.add(instanceId)
  }

  /**
   * Work on the engine where an instance's volumes and helpers are: its
   * host, or the manager's. Once its network is gone (a removed instance,
   * kept for its grace period), the host is the one that has `volume`.
   */
  private async onInstance<T>(instanceId: string, work: (local: LocalDockerDriver) => Promise<T>, volume?: string): Promise<T> {
    let host = instanceId ? await this.placementOf(instanceId) : undefined
    if (host === undefined && volume) host = await this.volumeHost(volume)
    return this.on(host ?? (await this.managerHost()), work)
  }

  /** The host that has this volume; refuses to say "nowhere" while a host cannot be asked. */
  private async volumeHost(volume: string): Promise<string | undefined> {
    const nodes = await this.nodes()
    const silent: string[] = []
    for (const node of nodes) {
      if (node.state !== 'ready') {
        silent.push(node.hostname)
        continue
      }
      try {
        const local = await this.local(node.hostname, nodes)
        await local.docker.getVolume(volume).inspect()
        return node.hostname
      } catch (error) {
        if (isNotFound(error)) continue
        if (error instanceof HostError || unreachable(error)) silent.push(node.hostname)
        else throw error
      }
    }
    if (silent.length > 0) {
      throw new HostError(
        `The data of this tool may be on a host that does not answer (${silent.join(', ')}); it is left alone until the host is back.`,
        `volume ${volume} is on no answering host; not asked: ${silent.join(', ')}`,
      )
    }
    return undefined
  }

  /** The running task of a service and its host, or undefined. */
  private async runningTask(service: string): Promise<{ host: string; containerId: string } | undefined> {
    const [tasks, nodes] = await Promise.all([this.manager.listTasks({ filters: { service: [service], 'desired-state': ['running'] } }) as Promise<Task[]>, this.nodes()])
    for (const t of tasks) {
      const node = nodes.find((n) => n.id === t.NodeID)
      const containerId = t.Status.ContainerStatus?.ContainerID
      if (t.Status.State === 'running' && node?.state === 'ready' && containerId) return { host: node.hostname, containerId }
    }
    return undefined
  }

  /** Work on a service's running container, on its host's engine. */
  private async inTask<T>(name: string, work: (local: LocalDockerDriver, containerId: string) => Promise<T>): Promise<T> {
    const task = await this.runningTask(name).catch((error: unknown) => {
      if (isNotFound(error)) return undefined
      throw error
    })
    if (!task) throw new Error(`${name} has no running task on a host that answers`)
    return this.on(task.host, (local) => work(local, task.containerId))
  }

  // ---- observing ----------------------------------------------------------------

  async observeAll(): Promise<Map<string, ObservedInstance>> {
    const [services, tasks, networks, nodes, proxyNetworks] = await Promise.all([
      this.manager.listServices({ filters: this.managedFilter }) as Promise<ServiceInfo[]>,
      this.manager.listTasks({ filters: { 'desired-state': ['running'] } }) as Promise<Task[]>,
      this.manager.listNetworks({ filters: this.managedFilter }),
      this.nodes(),
      this.proxyNetworks(),
    ])
    const byInstance = new Map<string, ObservedInstance>()
    const get = (id: string) => {
      let entry = byInstance.get(id)
      if (!entry) byInstance.set(id, (entry = { network: { exists: false, proxyAttached: false }, volumes: new Set(), containers: [] }))
      return entry
    }
    for (const n of networks) {
      const id = n.Labels?.[LABEL.instance]
      if (!id) continue
      get(id).network = { exists: true, proxyAttached: proxyNetworks.has(n.Name) }
      this.remember(id, n.Labels)
    }
    const ready = new Map(nodes.filter((n) => n.state === 'ready').map((n) => [n.id, n]))
    for (const s of services) {
      const labels = s.Spec.Labels ?? {}
      const id = labels[LABEL.instance]
      if (!id) continue
      const replicas = s.Spec.Mode?.Replicated?.Replicas ?? 0
      // A task on a host that is down may still read "running": it is not.
      const task = tasks.find((t) => t.ServiceID === s.ID && t.Status.State === 'running' && t.NodeID !== undefined && ready.has(t.NodeID))
      const containerId = task?.Status.ContainerStatus?.ContainerID
      get(id).containers.push(toObserved(containerId ?? s.ID, s.Spec.Name ?? '', labels, replicas > 0 && task !== undefined))
    }
    // One-off containers (hooks, helpers) and volumes live on the hosts' own engines.
    const silent = new Set(nodes.filter((n) => n.state !== 'ready').map((n) => n.hostname))
    for (const node of ready.values()) {
      let containers: Docker.ContainerInfo[]
      let volumes: Docker.VolumeInspectInfo[]
      try {
        const local = await this.local(node.hostname, nodes)
        ;[containers, volumes] = await Promise.all([
          local.docker.listContainers({ all: true, filters: this.managedFilter }),
          local.docker.listVolumes({ filters: this.managedFilter }).then((r) => r.Volumes ?? []),
        ])
      } catch (error) {
        // No engine configured for it, or it does not answer (lost, and
        // Swarm has not noticed yet): the steps that need it say so.
        if (!(error instanceof HostError) && !unreachable(error)) throw error
        silent.add(node.hostname)
        continue
      }
      for (const c of containers) {
        const id = c.Labels[LABEL.instance]
        if (!id || c.Labels[SWARM_SERVICE_LABEL]) continue
        get(id).containers.push(toObserved(c.Id, (c.Names[0] ?? '').replace(/^\//, ''), c.Labels, c.State === 'running'))
      }
      for (const v of volumes) {
        const id = v.Labels?.[LABEL.instance]
        if (id) get(id).volumes.add(v.Name)
      }
    }
    // The volumes of an instance whose host cannot be asked are not gone:
    // reported as last seen (and as its services mount them), so nothing
    // plans to make them again elsewhere, and a purge waits for the host
    // instead of calling them deleted.
    for (const [id, observed] of byInstance) {
      const host = this.#placement.get(id)
      if (host && silent.has(host)) {
        for (const v of this.#lastVolumes.get(id) ?? []) observed.volumes.add(v)
        for (const s of services) {
          if (s.Spec.Labels?.[LABEL.instance] !== id) continue
          for (const m of (s.Spec.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ContainerSpec?.Mounts ?? []) if (m.Source) observed.volumes.add(m.Source)
        }
      } else {
        this.#lastVolumes.set(id, new Set(observed.volumes))
      }
    }
    return byInstance
  }

  async observe(instanceId: string): Promise<ObservedInstance> {
    return (await this.observeAll()).get(instanceId) ?? { network: { exists: false, proxyAttached: false }, volumes: new Set(), containers: [] }
  }

  private async proxyNetworks(): Promise<Set<string>> {
    const info = await this.manager.getContainer(this.opts.proxyContainer).inspect()
    return new Set(Object.keys(info.NetworkSettings.Networks ?? {}))
  }

  // ---- placement ------------------------------------------------------------

  /** The host with the most memory not yet reserved that can take `placement`, among those the constraints allow. */
  private async chooseHost(placement: Placement): Promise<string> {
    const [nodes, tasks] = await Promise.all([this.nodes(), this.manager.listTasks({ filters: { 'desired-state': ['running'] } }) as Promise<Task[]>])
    const reserved = new Map<string, number>()
    for (const t of tasks) if (t.NodeID) reserved.set(t.NodeID, (reserved.get(t.NodeID) ?? 0) + (t.Spec.Resources?.Reservations?.MemoryBytes ?? 0))
    // Instances placed but whose services do not run yet count too.
    const placed = await this.manager.listNetworks({ filters: this.managedFilter })
    const running = new Set(tasks.map((t) => (t.Spec.ContainerSpec?.Labels ?? {})[LABEL.instance]))
    for (const n of placed) {
      const host = n.Labels?.[NODE_LABEL]
      const id = n.Labels?.[LABEL.instance]
      const node = nodes.find((x) => x.hostname === host)
      if (!node || !id || running.has(id)) continue
      reserved.set(node.id, (reserved.get(node.id) ?? 0) + Number(n.Labels?.[`${NODE_LABEL}.memory`] ?? 0))
    }
    const allowed = nodes.filter((n) => n.state === 'ready' && n.availability === 'active' && this.opts.constraints.every((c) => matches(c, n)))
    if (allowed.length === 0) {
      throw new HostError(
        'No host can take this tool right now: every host is down, drained or excluded by the placement rules.',
        `no ready, active swarm node matches ${JSON.stringify(this.opts.constraints)} (${nodes.map((n) => `${n.hostname}: ${n.state}/${n.availability}`).join(', ')})`,
      )
    }
    const ranked = allowed
      .map((n) => ({ node: n, free: n.memoryBytes - (reserved.get(n.id) ?? 0) }))
      .sort((a, b) => b.free - a.free || a.node.hostname.localeCompare(b.node.hostname))
    const best = ranked[0]!
    if (best.free < placement.memoryBytes) {
      throw new HostError(
        `No host has room for this tool: it needs ${mib(placement.memoryBytes)} of memory, and the host with the most free has ${mib(Math.max(0, best.free))}. An operator can add a host or free memory.`,
        `placement needs ${placement.memoryBytes} bytes; free by host: ${ranked.map((r) => `${r.node.hostname}=${r.free}`).join(', ')}`,
      )
    }
    return best.node.hostname
  }

  // ---- networks and volumes ----------------------------------------------------

  async ensureNetwork(name: string, labels: Record<string, string>, placement?: Placement): Promise<void> {
    const instanceId = labels[LABEL.instance] ?? ''
    const network = this.manager.getNetwork(name)
    try {
      const info = (await network.inspect()) as { Labels?: Record<string, string> }
      assertOwned(`network ${name}`, info.Labels, instanceId, this.opts.owner)
      this.remember(instanceId, info.Labels)
    } catch (error) {
      if (!isNotFound(error)) throw error
      // Volumes on the shared storage go wherever the tool goes: no host to keep to.
      const shared = Boolean(placement?.stateful && placement.sharedStorage && this.opts.sharedStorage)
      const host = placement?.stateful && !shared ? await this.chooseHost(placement) : null
      await this.manager.createNetwork({
        Name: name,
        Driver: 'overlay',
        // The proxy container and one-off hook containers join it.
        Attachable: true,
        CheckDuplicate: true,
        Labels: {
          ...labels,
          ...(host ? { [NODE_LABEL]: host, [`${NODE_LABEL}.memory`]: String(placement?.memoryBytes ?? 0) } : {}),
          ...(shared ? { [STORAGE_LABEL]: 'shared' } : {}),
        },
        Options: this.opts.encrypted ? { encrypted: 'true' } : {},
      })
      this.#placement.set(instanceId, host)
      if (shared) this.#shared.add(instanceId)
    }
    if (!(await this.proxyNetworks()).has(name)) {
      try {
        await network.connect({ Container: this.opts.proxyContainer })
      } catch (error) {
        if (statusCode(error) !== 403 || !(await this.proxyNetworks()).has(name)) throw error
      }
    }
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    const instanceId = labels[LABEL.instance] ?? ''
    await this.placementOf(instanceId)
    if (!this.#shared.has(instanceId)) return this.onInstance(instanceId, (local) => local.ensureVolume(name, labels))
    // Its folder on the shared storage, then the volume on the manager (the
    // backups' helpers run there); on another host Swarm makes the same
    // volume from the service's mount when a task lands there.
    await this.sharedFolder(name, instanceId, 'make')
    await this.on(await this.managerHost(), async (local) => {
      try {
        assertOwned(`volume ${name}`, (await local.docker.getVolume(name).inspect()).Labels, instanceId, this.opts.owner)
      } catch (error) {
        if (!isNotFound(error)) throw error
        await local.docker.createVolume({ Name: name, Labels: labels, Driver: 'local', DriverOpts: this.sharedVolumeOptions(name) })
      }
    })
  }

  async removeVolume(name: string, instanceId: string): Promise<void> {
    const root = this.opts.sharedStorage
    if (root) {
      // On the shared storage: the volume on every host that has one, then its folder.
      const nodes = await this.nodes()
      let shared = false
      for (const node of nodes.filter((n) => n.state === 'ready')) {
        const info = await this.on(node.hostname, (local) =>
          local.docker
            .getVolume(name)
            .inspect()
            .catch((error: unknown) => {
              if (isNotFound(error)) return undefined
              throw error
            }),
        )
        if (info?.Options?.device !== `${root}/${name}`) continue
        shared = true
        await this.on(node.hostname, (local) => local.removeVolume(name, instanceId))
      }
      if (shared || this.#shared.has(instanceId)) return this.sharedFolder(name, instanceId, 'remove')
    }
    await this.onInstance(instanceId, (local) => local.removeVolume(name, instanceId), name)
  }

  private sharedVolumeOptions(volume: string): Record<string, string> {
    return { type: 'none', o: 'bind', device: `${this.opts.sharedStorage}/${volume}` }
  }

  /** Makes or removes a volume's folder on the shared storage, from a helper on the manager. */
  private async sharedFolder(volume: string, instanceId: string, what: 'make' | 'remove'): Promise<void> {
    const root = this.opts.sharedStorage
    if (!root) throw new Error('no shared storage is configured (SWARM_SHARED_STORAGE)')
    const result = await this.on(await this.managerHost(), async (local) =>
      local.runHelper({
        name: `${volume}-folder`,
        instanceId,
        purpose: 'shared-storage',
        image: await this.utilityImage(),
        command: what === 'make' ? ['mkdir', '-p', `/shared/${volume}`] : ['rm', '-rf', `/shared/${volume}`],
        mounts: [{ bind: root, path: '/shared' }],
      }),
    )
    if (result.exitCode !== 0) {
      throw new HostError(
        'The shared storage of the hosts refuses to store anything.',
        `${what === 'make' ? 'mkdir' : 'rm -rf'} ${root}/${volume} ended with ${result.exitCode}: ${result.output.slice(-300)}`,
      )
    }
  }

  async removeNetwork(name: string, instanceId: string): Promise<void> {
    const network = this.manager.getNetwork(name)
    let info: { Labels?: Record<string, string> }
    try {
      info = (await network.inspect()) as { Labels?: Record<string, string> }
    } catch (error) {
      if (isNotFound(error)) return
      throw error
    }
    assertOwned(`network ${name}`, info.Labels, instanceId, this.opts.owner)
    if ((await this.proxyNetworks()).has(name)) {
      await network.disconnect({ Container: this.opts.proxyContainer, Force: true }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error
      })
    }
    // The tasks' endpoints go a moment after their service, and meanwhile
    // the manager may answer "active endpoints", "in use", or even 500
    // "network … not found" while it still lists it: try again for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        await network.remove()
        break
      } catch (error) {
        const gone = await network.inspect().then(
          () => false,
          (e: unknown) => isNotFound(e),
        )
        if (gone) break
        if (attempt >= 30 || !(error instanceof Error) || !/active endpoints|in use|not found/i.test(error.message)) throw error
        await sleep(1000)
      }
    }
    this.#placement.delete(instanceId)
  }

  async ensureSharedVolume(name: string): Promise<void> {
    const nodes = await this.nodes()
    if (nodes.length > 1) {
      throw new HostError(
        'Backups cannot be kept in a Docker volume on a swarm of several hosts: each host would have its own.',
        `BACKUP_REPOSITORY=volume:${name} with ${nodes.length} swarm nodes: use an s3: URL, or a folder that is the same storage on every host (an NFS mount at the same path)`,
      )
    }
    await (await this.local(await this.managerHost())).ensureSharedVolume(name)
  }

  // ---- services -------------------------------------------------------------

  async ensureContainer(spec: ContainerSpec, network: string): Promise<string> {
    const instanceId = spec.labels[LABEL.instance] ?? ''
    const host = await this.placementOf(instanceId)
    if (host === undefined) throw new Error(`the network of ${instanceId} does not exist yet`)
    // Volume owners: on the instance's host, or for the shared storage on the
    // manager, whose volume binds the same folder every host binds.
    if (host) await this.on(host, (local) => local.prepareVolumes(spec))
    else if (this.#shared.has(instanceId)) await this.on(await this.managerHost(), (local) => local.prepareVolumes(spec))
    const secrets = await this.ensureSecrets(spec)
    const service = this.manager.getService(spec.name)
    let info: ServiceInfo | undefined
    try {
      info = (await service.inspect()) as ServiceInfo
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
    const desired = this.serviceSpec(spec, network, host, secrets, this.#shared.has(instanceId))
    if (!info) {
      await this.manager.createService(desired)
    } else {
      assertOwned(`service ${spec.name}`, info.Spec.Labels, instanceId, this.opts.owner)
      const replicas = info.Spec.Mode?.Replicated?.Replicas ?? 0
      if (info.Spec.Labels?.[LABEL.configHash] !== spec.hash || replicas !== 1) {
        // A rolling update (parallelism 1; stop-first when it has volumes):
        // Swarm replaces the task, the provisioner waits for the new one.
        await service.update({ version: info.Version.Index, ...desired, TaskTemplate: { ...desired.TaskTemplate, ForceUpdate: info.Spec.TaskTemplate?.ForceUpdate ?? 0 } })
      }
    }
    const containerId = await this.waitForTask(spec, host)
    await this.removeSecrets(spec.name, instanceId, new Set(secrets.map((s) => s.SecretName ?? '')))
    return containerId
  }

  private serviceSpec(spec: ContainerSpec, network: string, host: string | null, secrets: Docker.SecretReference[], shared: boolean): Docker.CreateServiceOptions {
    const volumeLabels = { [LABEL.managedBy]: this.opts.owner, [LABEL.instance]: spec.labels[LABEL.instance] ?? '' }
    return {
      Name: spec.name,
      Labels: spec.labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: spec.image,
          Args: spec.command,
          User: spec.user,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Labels: spec.labels,
          Init: true,
          StopGracePeriod: 20e9,
          Mounts: spec.mounts.map((m) => ({
            Type: 'volume' as const,
            Source: m.volume,
            Target: m.path,
            ReadOnly: m.readOnly,
            // On the shared storage: any host makes the same volume, bound to the same folder.
            ...(shared ? { VolumeOptions: { NoCopy: false, Labels: volumeLabels, DriverConfig: { Name: 'local', Options: this.sharedVolumeOptions(m.volume) } } } : {}),
          })),
          Secrets: secrets,
        },
        // The recipe's memory is both the limit and what is reserved, so a
        // host is never promised more than it has; CPU is shared, not reserved.
        Resources: { Limits: { MemoryBytes: spec.memoryBytes, NanoCPUs: spec.nanoCpus }, Reservations: { MemoryBytes: spec.memoryBytes } },
        RestartPolicy: { Condition: 'any', Delay: 5e9 },
        Placement: { Constraints: [...this.opts.constraints, ...(host ? [`node.hostname==${host}`] : [])] },
        Networks: [{ Target: network, Aliases: [spec.service] }],
        LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } },
      },
      Mode: { Replicated: { Replicas: 1 } },
      // One task at a time; a service with volumes stops before its successor
      // starts (two databases on one volume corrupt it), one without starts
      // its successor first (no gap).
      UpdateConfig: { Parallelism: 1, Order: spec.mounts.length > 0 ? 'stop-first' : 'start-first', FailureAction: 'pause', Monitor: 5e9 },
      // The service's name resolves to its task's own address (DNS round
      // robin), not to a virtual IP: a virtual IP needs IPVS in the host's
      // kernel, which not every kernel has, and with one replica it adds
      // nothing. Nothing is published: only the proxy reaches the tools.
      EndpointSpec: { Mode: 'dnsrr' },
    }
  }

  /** Config files as Swarm secrets (encrypted in the managers' store, on tmpfs in the task), one set per config hash. */
  private async ensureSecrets(spec: ContainerSpec): Promise<Docker.SecretReference[]> {
    const refs: Docker.SecretReference[] = []
    for (const [i, f] of spec.files.entries()) {
      const name = `${spec.name}-${spec.hash.slice(0, 12)}-${i}`
      let id: string
      try {
        const info = (await this.manager.getSecret(name).inspect()) as { ID: string; Spec: { Labels?: Record<string, string> } }
        assertOwned(`secret ${name}`, info.Spec.Labels, spec.labels[LABEL.instance] ?? '', this.opts.owner)
        id = info.ID
      } catch (error) {
        if (!isNotFound(error)) throw error
        const created = (await this.manager.createSecret({
          Name: name,
          Labels: { [LABEL.managedBy]: this.opts.owner, [LABEL.instance]: spec.labels[LABEL.instance] ?? '', [LABEL.service]: spec.name },
          Data: Buffer.from(f.content, 'utf8').toString('base64'),
        })) as { id?: string; ID?: string }
        id = created.id ?? created.ID ?? ''
      }
      refs.push({ SecretID: id, SecretName: name, File: { Name: f.path, UID: '0', GID: '0', Mode: 0o444 } })
    }
    return refs
  }

  /** Secrets of a service's earlier configurations (or all, when it is removed); one still in use stays. */
  private async removeSecrets(service: string, instanceId: string, keep: Set<string>): Promise<void> {
    const secrets = (await this.manager.listSecrets({ filters: { label: [`${LABEL.managedBy}=${this.opts.owner}`, `${LABEL.service}=${service}`] } })) as {
      ID: string
      Spec: { Name: string; Labels?: Record<string, string> }
    }[]
    for (const s of secrets) {
      if (keep.has(s.Spec.Name) || s.Spec.Labels?.[LABEL.instance] !== instanceId) continue
      await this.manager
        .getSecret(s.ID)
        .remove()
        .catch((error: unknown) => {
          if (!isNotFound(error) && !(error instanceof Error && /in use/i.test(error.message))) throw error
        })
    }
  }

  /** Until a task of this configuration runs; a reason Swarm gives that waiting cannot cure ends it sooner. */
  private async waitForTask(spec: ContainerSpec, host: string | null): Promise<string> {
    const deadline = Date.now() + this.opts.taskTimeoutMs
    let last = 'no task yet'
    for (;;) {
      const [tasks, nodes] = await Promise.all([this.manager.listTasks({ filters: { service: [spec.name] } }) as Promise<Task[]>, this.nodes()])
      const current = tasks
        .filter((t) => t.Spec.ContainerSpec?.Labels?.[LABEL.configHash] === spec.hash)
        .sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''))
      for (const t of current) {
        const node = nodes.find((n) => n.id === t.NodeID)
        const id = t.Status.ContainerStatus?.ContainerID
        if (t.DesiredState === 'running' && t.Status.State === 'running' && node?.state === 'ready' && id) return id
      }
      const latest = current[0]
      if (latest) {
        const err = latest.Status.Err ?? ''
        last = `${latest.Status.State}${err ? `: ${err}` : latest.Status.Message ? ` (${latest.Status.Message})` : ''}`
        if (/no such image|pull access denied|manifest unknown|not found/i.test(err) && latest.Status.State === 'rejected') {
          throw new ImageUnavailableError(spec.image, new Error(err))
        }
        if (host && latest.Status.State === 'pending') {
          const node = nodes.find((n) => n.hostname === host)
          if (!node || node.state !== 'ready') {
            throw new HostError(
              `The host "${host}" that keeps this tool's data is down. The tool comes back when the host does; its data stays there.`,
              `service ${spec.name} is pending: ${last}; swarm node ${host} is ${node?.state ?? 'gone'}`,
              host,
            )
          }
        }
        if (latest.Status.State === 'pending' && /insufficient resources/i.test(err)) {
          throw new HostError(
            `No host has room for "${spec.service}": it needs ${mib(spec.memoryBytes)} of memory. An operator can add a host or free memory.`,
            `service ${spec.name} is pending: ${last}`,
          )
        }
      }
      if (Date.now() >= deadline) throw new Error(`service ${spec.name} has no running task after ${Math.round(this.opts.taskTimeoutMs / 1000)} s; its latest task: ${last}`)
      await sleep(500)
    }
  }

  async stopContainer(name: string, instanceId: string): Promise<void> {
    const info = await this.ownedService(name, instanceId)
    if (!info) return (await this.oneOff(name, instanceId))?.stopContainer(name, instanceId)
    if ((info.Spec.Mode?.Replicated?.Replicas ?? 0) !== 0) {
      await this.manager.getService(name).update({ version: info.Version.Index, ...info.Spec, Mode: { Replicated: { Replicas: 0 } } })
    }
    // Stopped means stopped: a restore replaces the volumes right after.
    await this.waitUntil(async () => (await this.runningTask(name)) === undefined && !(await this.taskContainerLeft(name)), `${name} to stop`, 60_000)
  }

  async restartContainer(name: string, instanceId: string): Promise<void> {
    const info = await this.ownedService(name, instanceId)
    if (!info) throw new Error(`service ${name} does not exist`)
    const before = await this.runningTask(name)
    const taskTemplate = { ...info.Spec.TaskTemplate, ForceUpdate: (info.Spec.TaskTemplate?.ForceUpdate ?? 0) + 1 }
    await this.manager.getService(name).update({ version: info.Version.Index, ...info.Spec, TaskTemplate: taskTemplate })
    await this.waitUntil(async () => {
      const now = await this.runningTask(name)
      return now !== undefined && now.containerId !== before?.containerId
    }, `${name} to run again`, this.opts.taskTimeoutMs)
  }

  async removeContainer(name: string, instanceId: string): Promise<void> {
    const info = await this.ownedService(name, instanceId)
    if (!info) return (await this.oneOff(name, instanceId))?.removeContainer(name, instanceId)
    await this.manager
      .getService(name)
      .remove()
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error
      })
    // Its volumes can go only once its containers have.
    await this.waitUntil(async () => !(await this.taskContainerLeft(name, true)), `the containers of ${name} to go`, 60_000)
    await this.removeSecrets(name, instanceId, new Set())
  }

  private async ownedService(name: string, instanceId: string): Promise<ServiceInfo | undefined> {
    try {
      const info = (await this.manager.getService(name).inspect()) as ServiceInfo
      assertOwned(`service ${name}`, info.Spec.Labels, instanceId, this.opts.owner)
      return info
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  /** The engine holding a one-off container (hook, helper) of that name, if any. */
  private async oneOff(name: string, instanceId: string): Promise<LocalDockerDriver | undefined> {
    const nodes = await this.nodes()
    for (const node of nodes.filter((n) => n.state === 'ready')) {
      const local = await this.local(node.hostname, nodes).catch(() => undefined)
      if (!local) continue
      const found = await local.docker.listContainers({ all: true, filters: { name: [`^/${name}$`], label: [`${LABEL.instance}=${instanceId}`] } })
      if (found.length > 0) return local
    }
    return undefined
  }

  /**
   * A container of the service's tasks still runs (or, with `any`, exists at
   * all: a stopped one still holds its volumes) on a host that answers.
   */
  private async taskContainerLeft(service: string, any = false): Promise<boolean> {
    const nodes = await this.nodes()
    for (const node of nodes.filter((n) => n.state === 'ready')) {
      const local = await this.local(node.hostname, nodes).catch(() => undefined)
      if (!local) continue
      const found = await local.docker.listContainers({
        all: any,
        filters: { label: [`com.docker.swarm.service.name=${service}`], ...(any ? {} : { status: ['running', 'restarting', 'removing'] }) },
      })
      if (found.length > 0) return true
    }
    return false
  }

  private async waitUntil(done: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`)
      await sleep(300)
    }
  }

  // ---- inside containers: on the task's own host ---------------------------------------

  async exec(containerName: string, hook: Pick<HookSpec, 'command' | 'env' | 'user' | 'workdir'>): Promise<ExecResult> {
    return this.inTask(containerName, (local, id) => local.exec(id, hook))
  }

  async execStream(containerName: string, command: ExecCommand, io: { stdout?: Writable; stdin?: Readable }): Promise<ExecResult> {
    return this.inTask(containerName, (local, id) => local.execStream(id, command, io))
  }

  async probe(containerName: string, health: HealthSpec): Promise<boolean> {
    // http and tcp from the proxy (on the manager) by the service's name on
    // the overlay network, as the routes reach it; commands in the task.
    if (health.type !== 'command') return (await this.local(await this.managerHost())).probe(containerName, health)
    const task = await this.runningTask(containerName)
    if (!task) return false
    return (await this.local(task.host)).probe(task.containerId, health)
  }

  async logs(containerName: string, tail: number): Promise<string[]> {
    const task = await this.runningTask(containerName).catch(() => undefined)
    if (task) return (await this.local(task.host)).logs(task.containerId, tail)
    // Not running: the latest task's container, where its host still answers.
    const tasks = (await this.manager.listTasks({ filters: { service: [containerName] } }).catch(() => [])) as Task[]
    const nodes = await this.nodes()
    for (const t of tasks.sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''))) {
      const node = nodes.find((n) => n.id === t.NodeID)
      const id = t.Status.ContainerStatus?.ContainerID
      if (!node || node.state !== 'ready' || !id) continue
      const local = await this.local(node.hostname, nodes).catch(() => undefined)
      if (local) return local.logs(id, tail)
    }
    return []
  }

  async runOnce(hook: HookSpec, service: ContainerSpec, network: string): Promise<ExecResult> {
    return this.onInstance(service.labels[LABEL.instance] ?? '', (local) => local.runOnce(hook, service, network))
  }

  async runHelper(run: HelperRun): Promise<ExecResult> {
    return this.onInstance(run.instanceId, (local) => local.runHelper(run))
  }

  async readVolumeFile(volume: string, filePath: string, instanceId: string, image: string): Promise<Readable> {
    return this.onInstance(instanceId, (local) => local.readVolumeFile(volume, filePath, instanceId, image), volume)
  }

  async exportVolumes(volumes: string[], instanceId: string): Promise<Readable> {
    return this.onInstance(instanceId, (local) => local.exportVolumes(volumes, instanceId), volumes[0])
  }

  // ---- the health page --------------------------------------------------------

  async hosts(): Promise<HostStatus[]> {
    const nodes = await this.nodes()
    const managerHost = await this.managerHost()
    return Promise.all(
      nodes.map(async (n): Promise<HostStatus> => {
        const base: HostStatus = {
          name: n.hostname,
          reachable: n.state === 'ready',
          error: n.state === 'ready' ? null : `This host is ${n.state} in the swarm: tools with data on it wait for it, the others run elsewhere.`,
          engineVersion: n.engineVersion,
          operatingSystem: n.os,
          cpus: Math.round(n.nanoCpus / 1e9),
          memoryBytes: n.memoryBytes,
          containersRunning: 0,
          containersStopped: 0,
          swarm: n.hostname === managerHost ? 'manager (this provisioner)' : n.role,
        }
        if (n.availability !== 'active') base.swarm += ` (${n.availability})`
        if (n.state !== 'ready') return base
        try {
          const info = await (await this.local(n.hostname, nodes)).hostInfo()
          return { ...base, operatingSystem: info.operatingSystem, containersRunning: info.containersRunning, containersStopped: info.containersStopped }
        } catch (error) {
          return { ...base, reachable: false, error: error instanceof HostError ? `${error.plain} (${error.message})` : `Its Docker engine does not answer: ${error instanceof Error ? error.message : String(error)}` }
        }
      }),
    )
  }
}

/** The engine cannot be reached at all (as opposed to answering with an error). */
function unreachable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : ''
  // An engine over ssh (ssh2): the connection failed or timed out before the handshake.
  const level = typeof error === 'object' && error !== null && 'level' in error ? String(error.level) : ''
  return ['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(code) || ['client-socket', 'client-timeout'].includes(level)
}

/** Swarm's constraint syntax (`node.labels.x==y`, `node.role!=manager`, `node.hostname==h`), for choosing a host before Swarm does. */
export function matches(constraint: string, node: Pick<SwarmNode, 'id' | 'hostname' | 'role' | 'labels'>): boolean {
  const m = /^\s*([\w.-]+)\s*(==|!=)\s*(.+?)\s*$/.exec(constraint)
  if (!m) throw new Error(`placement constraint "${constraint}" is not of the form key==value or key!=value`)
  const [, key, op, value] = m as unknown as [string, string, string, string]
  let actual: string | undefined
  if (key === 'node.id') actual = node.id
  else if (key === 'node.hostname') actual = node.hostname
  else if (key === 'node.role') actual = node.role
  else if (key.startsWith('node.labels.')) actual = node.labels[key.slice('node.labels.'.length)]
  else return true // engine labels and platform: Swarm checks those itself
  return op === '==' ? actual === value : actual !== value
}
