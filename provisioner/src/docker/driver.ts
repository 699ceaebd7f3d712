import type { Readable, Writable } from 'node:stream'
import type { ContainerSpec, HealthSpec, HookSpec } from '../spec.ts'

// The seam between the controller and the container engine. Two drivers:
// docker/local.ts (one Docker host through its API, a container per service)
// and docker/swarm.ts (a Swarm of hosts, a Swarm service per recipe service
// on an overlay network per instance). The controller, the planner and the
// backups see only this interface, so both run the same recipes the same way.

export type ObservedContainer = {
  id: string
  name: string
  instance: string
  /** The recipe service it runs, or the hook for one-off hook containers. */
  service?: string
  hook?: string
  running: boolean
  hash?: string
}

export type ObservedInstance = {
  network: { exists: boolean; proxyAttached: boolean }
  volumes: Set<string>
  containers: ObservedContainer[]
}

/** A command for `execStream`: argv, and who, where and with what extra environment it runs. */
export type ExecCommand = { command: string[]; user?: string; workdir?: string; env?: Record<string, string> }

export type ExecResult = { exitCode: number; output: string }

export type HostInfo = {
  name: string
  engineVersion: string
  operatingSystem: string
  cpus: number
  memoryBytes: number
  containersRunning: number
  containersStopped: number
  /** "inactive", or this engine's part in a Swarm. */
  swarm: string
}

/** A host as the health page shows it: answering or not, and why not. */
export type HostStatus = HostInfo & { reachable: boolean; error: string | null }

/** What an instance needs of a host, known before anything of it exists. */
export type Placement = {
  /** Memory the instance's services reserve together (the recipe's sizes). */
  memoryBytes: number
  nanoCpus: number
  /** It has volumes: on a Swarm it stays on the host that holds them. */
  stateful: boolean
  /** Its recipe allows the volumes on storage every host shares: with such storage it need not stay. */
  sharedStorage?: boolean
}

export type HelperMount = { volume: string; path: string; readOnly?: boolean } | { bind: string; path: string; readOnly?: boolean }

/** A one-off helper container of the provisioner's own (the backup tool), not of a recipe. */
export type HelperRun = {
  name: string
  instanceId: string
  /** What it is for; goes on its hook label ("backup", "restore", ...). */
  purpose: string
  image: string
  command: string[]
  env?: Record<string, string>
  /** Written into the container before it starts (secrets: never in env or argv). */
  files?: { path: string; content: string }[]
  mounts: HelperMount[]
  /** Fed to the command's stdin. */
  stdin?: Readable
  /** "none" (the default) unless it must reach remote storage. */
  network?: string
}

export interface ContainerDriver {
  /** Everything the provisioner owns, grouped by instance id (one pass over the engine). */
  observeAll(): Promise<Map<string, ObservedInstance>>
  observe(instanceId: string): Promise<ObservedInstance>
  /** The instance's network; on a Swarm this is also where the instance is placed (`placement`). */
  ensureNetwork(name: string, labels: Record<string, string>, placement?: Placement): Promise<void>
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>
  /** Creates, replaces (config hash differs) or starts the container; returns its id. */
  ensureContainer(spec: ContainerSpec, network: string): Promise<string>
  stopContainer(name: string, instanceId: string): Promise<void>
  restartContainer(name: string, instanceId: string): Promise<void>
  removeContainer(name: string, instanceId: string): Promise<void>
  removeNetwork(name: string, instanceId: string): Promise<void>
  removeVolume(name: string, instanceId: string): Promise<void>
  /** post-install hooks: a command in the running service container. */
  exec(containerName: string, hook: Pick<HookSpec, 'command' | 'env' | 'user' | 'workdir'>): Promise<ExecResult>
  /** init hooks: a one-off container of the service's image, env and volumes. */
  runOnce(hook: HookSpec, service: ContainerSpec, network: string): Promise<ExecResult>
  /** One health probe; true when healthy. */
  probe(containerName: string, health: HealthSpec): Promise<boolean>
  logs(containerName: string, tail: number): Promise<string[]>
  /** Runs a helper container to its end; output is the tail of its stdout and stderr. */
  runHelper(run: HelperRun): Promise<ExecResult>
  /** A command in a running container with its stdout streamed to `stdout` and/or `stdin` fed; output is its stderr. */
  execStream(containerName: string, command: ExecCommand, io: { stdout?: Writable; stdin?: Readable }): Promise<ExecResult>
  /** One file of a volume as a stream (read through a container of `image` that never starts). */
  readVolumeFile(volume: string, filePath: string, instanceId: string, image: string): Promise<Readable>
  /** A volume of the provisioner's own (the backup repository), labelled with no instance. */
  ensureSharedVolume(name: string): Promise<void>
  /** The engine's hosts (one, or every Swarm node), for the operators' health page. */
  hosts(): Promise<HostStatus[]>
  /** A tar stream of the given volumes (each under its own folder). */
  exportVolumes(volumes: string[], instanceId: string): Promise<Readable>
}

/** The engine holds an object of that name that the provisioner does not own (or owns for another instance). */
export class OwnershipError extends Error {
  constructor(
    readonly object: string,
    readonly detail: string,
  ) {
    super(`refusing to touch ${object}: ${detail}`)
    this.name = 'OwnershipError'
  }
}

/** An image is neither on this host nor pullable. */
export class ImageUnavailableError extends Error {
  constructor(
    readonly image: string,
    cause: unknown,
  ) {
    super(`image ${image} is not available on this host and could not be pulled: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'ImageUnavailableError'
  }
}

/**
 * A host cannot take or serve the instance: no host has room for it, or the
 * host that keeps its data is down or unreachable. `plain` is for the
 * organisation's admin and the operators; the message has the detail.
 */
export class HostError extends Error {
  constructor(
    readonly plain: string,
    detail: string,
    /** The host the instance waits for (its data is there): it is tried again when that host is back. */
    readonly waitsFor?: string,
  ) {
    super(detail)
    this.name = 'HostError'
  }
}
