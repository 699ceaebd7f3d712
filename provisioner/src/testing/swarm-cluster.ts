/**
 * A real Docker Swarm of several hosts on this one machine, for the tests of
 * the Swarm driver: one extra dockerd (Debian's docker.io) per node, each in
 * a Linux network namespace of its own, joined into one swarm. A node is lost
 * the way a machine is (every process of it killed at once, its network
 * gone), so a test sees what Swarm really does then.
 *
 * Each node is
 *  - a network namespace `commons-swarm-<offset>-<i>` with 10.213.<offset>.(10+i)/24
 *    on a veth into the host bridge `cmsw<offset>` (10.213.<offset>.1, the host
 *    itself reaches every node there: published ports are at node.address);
 *  - dockerd under `unshare --uts --mount --pid`: its own hostname
 *    `node-<offset>-<i>` (Swarm names nodes by hostname), its own mount
 *    namespace (its overlay and netns mounts never show on the host, and go
 *    when it dies) and its own PID namespace (killing its first process,
 *    docker-init, kills dockerd, containerd, the shims and the containers at
 *    once: that is how a node is lost);
 *  - its own data root on disk (/var/lib/commons-swarm-test/<offset>/node<i>,
 *    overlay2 needs a real file system, not tmpfs), its log beside it
 *    (dockerd.log), its exec root, pid file and socket in
 *    /run/commons-swarm-test/<offset>/node<i>/ (the exec root is also where
 *    libnetwork keeps its netns files and dockerd its own containerd and runc state).
 *
 * The main engine must not be touched by the nodes. A node's mount namespace
 * has a /run of its own (a tmpfs, with only its run folder from the host's):
 * the main engine's exec root /run/docker (libnetwork's netns files), a
 * machine containerd's /run/containerd (dockerd would use that one instead of
 * starting its own) and the main engine's /run/docker.sock are not there, and
 * its dockerd also listens on its own /run/docker.sock, so a container on a
 * node that mounts /var/run/docker.sock talks to its node, as on a real host.
 * /var/lib/docker and /etc/docker (key.json, daemon.json) are its own empty
 * ones too, and the copies of the host's mounts there are dropped from its
 * view (they would hold the main engine's layers and netns files). /sys is
 * mounted again so /sys/class/net shows the node's interfaces (the cgroup
 * mounts are carried over). iptables and ip_forward keep dockerd's defaults:
 * they act in the node's own network namespace, as on a real host.
 *
 * On the host: the bridge, and FORWARD rules (comment `commons-swarm-test-<offset>`)
 * accepting traffic between nodes (bridged frames pass iptables, whose FORWARD
 * policy the main engine sets to DROP) and rejecting what leaves the bridge,
 * so a node's lookups of the outside world fail at once instead of timing out.
 * The nodes run with DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (as moby's own
 * Swarm tests do): no registry is reachable, and a task would otherwise try
 * to pull its image first.
 *
 * `offset` (TEST_PORT_OFFSET) keeps two test runs on one machine apart. A
 * start first removes what a crashed run of the same offset left; close()
 * leaves nothing: processes, namespaces, veths, bridge, rules, mounts,
 * cgroups, folders. Linux and root only.
 *
 * Limits of this machine's kernel are probed by ipsecSupport() and
 * ipvsSupport() (encrypted overlays need IPsec ESP with AES-GCM; a service's
 * virtual IP and the ingress routing mesh need IPVS).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import Docker from 'dockerode'
import { ensureDockerEngine, pingDocker } from '../../../scripts/docker-engine.ts'
import { ensureLocalImages, images as localImages, type LocalImage } from '../../../scripts/images.ts'

export type SwarmNode = {
  /** Its hostname, e.g. node-0-1: what Swarm calls it (`node.hostname==…`). */
  name: string
  /** Its Swarm node id (set once it is in the swarm). */
  id: string
  role: 'manager' | 'worker'
  /** Its address on the cluster's bridge, e.g. 10.213.0.11: the host reaches ports published on the node here. */
  address: string
  /** Its engine's socket; exec, logs and volumes of its containers go through this engine only. */
  socketPath: string
  /** Its network namespace (`ip netns exec <netns> …` runs a process on this host's network; made anew by restoreNode). */
  netns: string
  docker: Docker
}

export type SwarmCluster = {
  manager: SwarmNode
  /** Every node, the manager first (lost ones too). */
  readonly nodes: SwarmNode[]
  /** Starts another engine in its own namespaces and joins it as a worker; labels are node labels set through the manager. Resolves when the manager reports it ready. */
  addWorker(labels?: Record<string, string>): Promise<SwarmNode>
  /** The node is lost: every process of it killed at once (dockerd, containerd, the containers), its network gone. Resolves when the manager reports the node down. */
  loseNode(name: string): Promise<void>
  /** Starts the lost node again (a fresh network and exec root, as after a reboot) on its old data; resolves when the manager reports it ready. */
  restoreNode(name: string): Promise<void>
  /** Copies images from the main engine into every node (docker save -> load through the API), and into nodes added or restored later. */
  loadImages(names: string[]): Promise<void>
  /** Removes everything; safe to call twice. */
  close(): Promise<void>
}

/** Something the cluster needs failed; the message says what, and what to do. */
export class SwarmClusterError extends Error {
  override name = 'SwarmClusterError'
}

const dataRoot = '/var/lib/commons-swarm-test'
const runRoot = '/run/commons-swarm-test'
// dockerd finds containerd, runc, docker-proxy and iptables on PATH; Debian puts some in sbin.
const systemPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const heartbeatNs = 1_000_000_000
const engineStartMs = 45_000
const nodeStateMs = 60_000

// The commands this needs, and the Debian package each comes from.
const tools: [string, string][] = [
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['mount', 'mount'],
  ['umount', 'mount'],
  ['hostname', 'hostname'],
  ['iptables', 'iptables'],
  ['dockerd', 'docker.io'],
  ['containerd', 'containerd'],
  ['runc', 'runc'],
  ['docker-init', 'tini'], // docker.io depends on it
]

type Member = SwarmNode & {
  index: number
  hostVeth: string
  mac: string
  dataDir: string
  runDir: string
  logPath: string
  lost: boolean
  child?: ChildProcess
  exited?: Promise<void>
}

// Clusters of this process by offset: a second start of the same offset is refused until close().
const open = new Set<number>()

export async function startSwarmCluster(opts: { workers: number; images: string[]; offset?: number; log?: (line: string) => void }): Promise<SwarmCluster> {
  const log = opts.log ?? (() => {})
  const offset = opts.offset ?? Number(process.env.TEST_PORT_OFFSET ?? 0)
  if (!Number.isInteger(offset) || offset < 0 || offset > 255)
    throw new SwarmClusterError(`offset ${offset}: must be an integer 0–255 (it is the third part of 10.213.<offset>.0/24)`)
  if (!Number.isInteger(opts.workers) || opts.workers < 0) throw new SwarmClusterError(`workers ${opts.workers}: must be 0 or more`)
  if (process.platform !== 'linux' || process.getuid?.() !== 0)
    throw new SwarmClusterError('A swarm cluster needs Linux and root (network namespaces, a bridge, dockerd): run the tests as root.')
  const missing = tools.filter(([tool]) => !onPath(tool))
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))]
    throw new SwarmClusterError(
      `Missing ${missing.map(([tool]) => tool).join(', ')}: install the Debian packages ${packages.join(' ')} (apt-get install ${packages.join(' ')}).`
    )
  }
  if (open.has(offset)) throw new SwarmClusterError(`This process already has a swarm cluster with offset ${offset}; close() it first or use another offset.`)
  const ownerFile = `${runRoot}/${offset}.pid`
  const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8').trim()) : undefined
  if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
    throw new SwarmClusterError(`Process ${owner} runs a swarm cluster with offset ${offset} (${ownerFile}); let it finish, or use another TEST_PORT_OFFSET.`)
  }

  open.add(offset)
  const started = Date.now()
  const names = new Names(offset)
  try {
    await removeLeftovers(names, log)
  } catch (error) {
    open.delete(offset)
    throw error
  }
  mkdirSync(runRoot, { recursive: true })
  writeFileSync(ownerFile, String(process.pid))

  const members: Member[] = []
  const wanted: string[] = []
  let main: Docker | undefined
  let closing: Promise<void> | undefined
  let swarmToken = ''

  const byName = (name: string) => {
    const member = members.find((m) => m.name === name)
    if (!member) throw new SwarmClusterError(`No node ${name} in this cluster (nodes: ${members.map((m) => m.name).join(', ')})`)
    return member
  }

  const mainEngine = async () => (main ??= new Docker({ socketPath: (await ensureDockerEngine({ log })).socketPath }))

  const copyImages = async (member: Member, list: string[]) => {
    for (const name of list) await copyImage(await mainEngine(), member, name, log)
  }

  const newMember = (index: number): Member => {
    const member: Member = {
      ...names.node(index),
      id: '',
      role: index === 0 ? 'manager' : 'worker',
      lost: false,
      docker: undefined as unknown as Docker,
    }
    member.docker = new Docker({ socketPath: member.socketPath })
    members.push(member)
    return member
  }

  const bringUp = async (member: Member) => {
    await createNodeNetwork(names, member)
    await startEngine(member, log)
  }

  const join = async (member: Member, labels: Record<string, string> = {}) => {
    const manager = members[0]!
    await member.docker.swarmJoin({
      ListenAddr: `${member.address}:2377`,
      AdvertiseAddr: `${member.address}:2377`,
      RemoteAddrs: [`${manager.address}:2377`],
      JoinToken: swarmToken,
    })
    member.id = await swarmNodeId(member)
    await waitForState(manager, member, 'ready')
    if (Object.keys(labels).length > 0) await setLabels(manager, member, labels)
  }

  const addWorker = async (labels: Record<string, string> = {}) => {
    if (closing) throw new SwarmClusterError('The cluster is closed')
    const index = members.reduce((max, m) => Math.max(max, m.index), 0) + 1
    if (index > 244) throw new SwarmClusterError('At most 244 workers fit on 10.213.<offset>.0/24')
    const member = newMember(index)
    const t = Date.now()
    try {
      await bringUp(member)
      // Images first: the scheduler may give it a task the moment it is ready.
      await copyImages(member, wanted)
      await join(member, labels)
    } catch (error) {
      // Not a member then: its engine and network go now, its folders with close().
      await takeDown(member).catch(() => undefined)
      members.splice(members.indexOf(member), 1)
      throw error
    }
    log(`${member.name} (${member.address}) joined as a worker in ${seconds(t)} s`)
    return member
  }

  const takeDown = async (member: Member) => {
    await killEngine(member)
    await removeNodeNetwork(member)
  }

  const close = () =>
    (closing ??= (async () => {
      process.removeListener('exit', killAllSync)
      await Promise.all(members.map((m) => killEngine(m)))
      await removeLeftovers(names, log)
      rmSync(ownerFile, { force: true })
      removeIfEmpty(runRoot)
      removeIfEmpty(dataRoot)
      open.delete(offset)
      log(`Swarm cluster ${offset} closed`)
    })())

  // If the test process ends without close(), its nodes do not outlive it (the rest goes at the next start).
  const killAllSync = () => {
    for (const m of members) killTree(m)
  }
  process.once('exit', killAllSync)

  try {
    await createBridge(names)
    const manager = newMember(0)
    const workers = Array.from({ length: opts.workers }, (_, i) => newMember(i + 1))
    await Promise.all(members.map(bringUp))
    log(`${members.length} engine(s) answer after ${seconds(started)} s`)

    await manager.docker.swarmInit({
      ListenAddr: `${manager.address}:2377`,
      AdvertiseAddr: `${manager.address}:2377`,
      // A lost node is reported down after a few heartbeats.
      Spec: { Dispatcher: { HeartbeatPeriod: heartbeatNs } },
    })
    manager.id = await swarmNodeId(manager)
    const swarm = (await manager.docker.swarmInspect()) as { JoinTokens: { Worker: string } }
    swarmToken = swarm.JoinTokens.Worker

    await loadImages(opts.images)
    await Promise.all(workers.map((w) => join(w)))
    log(`Swarm cluster ${offset} is up: ${members.map((m) => `${m.name} ${m.address}`).join(', ')} (${seconds(started)} s)`)
  } catch (error) {
    await close().catch((closeError) => log(`Cleaning up after the failed start also failed: ${String(closeError)}`))
    throw error
  }

  async function loadImages(list: string[]) {
    if (list.length === 0) return
    const t = Date.now()
    const mainDocker = await mainEngine()
    // Local images (scripts/images.ts) are built on the main engine when missing or out of date.
    const keys = (Object.entries(localImages) as [LocalImage, string][]).filter(([, name]) => list.includes(name)).map(([key]) => key)
    if (keys.length > 0) await ensureLocalImages(mainDocker, { only: keys, log })
    for (const name of list) {
      if (!(await imageId(mainDocker, name))) {
        throw new SwarmClusterError(
          `Image ${name} is not on the main engine: build it there first (ensureLocalImages from scripts/images.ts builds the project's images).`
        )
      }
      if (!wanted.includes(name)) wanted.push(name)
    }
    await Promise.all(members.filter((m) => !m.lost).map((m) => copyImages(m, list)))
    log(`Loaded ${list.join(', ')} into ${members.filter((m) => !m.lost).length} node(s) in ${seconds(t)} s`)
  }

  return {
    get manager() {
      return members[0]!
    },
    get nodes() {
      return [...members]
    },
    addWorker,
    loadImages,
    async loseNode(name) {
      const member = byName(name)
      if (member.role === 'manager')
        throw new SwarmClusterError(`${name} is the only manager: losing it loses the swarm (nobody could report it down). Lose a worker.`)
      if (member.lost) throw new SwarmClusterError(`${name} is already lost`)
      const t = Date.now()
      member.lost = true
      await takeDown(member)
      await waitForState(members[0]!, member, 'down')
      log(`${name} lost; the manager reported it down after ${seconds(t)} s`)
    },
    async restoreNode(name) {
      const member = byName(name)
      if (!member.lost) throw new SwarmClusterError(`${name} is not lost`)
      const t = Date.now()
      try {
        await bringUp(member)
        await copyImages(member, wanted)
        await waitForState(members[0]!, member, 'ready')
      } catch (error) {
        // Still lost: restoreNode may be tried again.
        await takeDown(member).catch(() => undefined)
        throw error
      }
      member.lost = false
      log(`${name} restored; the manager reported it ready after ${seconds(t)} s`)
    },
    close,
  }
}

/**
 * Whether this kernel can carry Swarm's encrypted overlay networks: they use
 * IPsec ESP in transport mode with rfc4106(gcm(aes)) between hosts. Probed
 * by adding such a state in a scratch network namespace. Without it, dockerd
 * creates the network anyway, logs "Failed Adding …SA…", and traffic between
 * hosts on that network is dropped (containers on one host still talk).
 */
export async function ipsecSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
  return probeInScratchNamespace('commons-ipsec-probe', async (ns) => {
    const key = '0x' + '11'.repeat(20)
    const result = await run(
      'ip',
      [
        '-n',
        ns,
        'xfrm',
        'state',
        'add',
        'src',
        '10.1.0.1',
        'dst',
        '10.1.0.2',
        'proto',
        'esp',
        'spi',
        '0x100',
        'reqid',
        '1',
        'mode',
        'transport',
        'aead',
        'rfc4106(gcm(aes))',
        key,
        '128',
      ],
      {
        allowFail: true,
      }
    )
    if (result.code === 0) return { ok: true }
    const kernel = kernelConfig()
    const lacking = ['CONFIG_XFRM_USER', 'CONFIG_INET_ESP', 'CONFIG_CRYPTO_GCM', 'CONFIG_CRYPTO_GHASH', 'CONFIG_CRYPTO_SEQIV'].filter(
      (option) => kernel && !new RegExp(`^${option}=[ym]$`, 'm').test(kernel)
    )
    return {
      ok: false,
      reason:
        `the kernel refuses an ESP state with rfc4106(gcm(aes)) (${result.stderr.trim() || `ip exited ${result.code}`})` +
        (lacking.length > 0 ? `; its config lacks ${lacking.join(', ')}` : '') +
        (kernel && /^# CONFIG_MODULES is not set$/m.test(kernel) ? ' and it cannot load modules (CONFIG_MODULES is not set)' : ''),
    }
  })
}

/**
 * Whether this kernel has IPVS, which Swarm uses for a service's virtual IP
 * (EndpointSpec Mode "vip", the default) and for the ingress routing mesh.
 * Without it the name of a "vip" service resolves to an address that answers
 * "No route to host"; "dnsrr" services (and tasks.<service>) and ports
 * published in "host" mode still work.
 */
export function ipvsSupport(): { ok: true } | { ok: false; reason: string } {
  if (existsSync('/proc/net/ip_vs')) return { ok: true }
  const kernel = kernelConfig()
  const reason =
    kernel && !/^CONFIG_IP_VS=[ym]$/m.test(kernel)
      ? 'the kernel is built without IPVS (CONFIG_IP_VS is not set)'
      : 'IPVS is not loaded (no /proc/net/ip_vs; try modprobe ip_vs)'
  return { ok: false, reason }
}

// ---- names ---------------------------------------------------------------------

class Names {
  readonly bridge: string
  readonly subnet: string
  readonly gateway: string
  readonly comment: string
  readonly dataBase: string
  readonly runBase: string
  constructor(readonly offset: number) {
    this.bridge = `cmsw${offset}`
    this.subnet = `10.213.${offset}`
    this.gateway = `${this.subnet}.1`
    this.comment = `commons-swarm-test-${offset}`
    this.dataBase = `${dataRoot}/${offset}`
    this.runBase = `${runRoot}/${offset}`
  }
  node(index: number) {
    const runDir = `${this.runBase}/node${index}`
    const dataDir = `${this.dataBase}/node${index}`
    return {
      index,
      name: `node-${this.offset}-${index}`,
      netns: `commons-swarm-${this.offset}-${index}`,
      hostVeth: `${this.bridge}n${index}`,
      address: `${this.subnet}.${10 + index}`,
      // Fixed (and not in 02:42:…, which Docker derives from container addresses), so the
      // other nodes' ARP entries stay right when a lost node comes back.
      mac: `06:cd:0a:d5:${hex(this.offset)}:${hex(10 + index)}`,
      runDir,
      dataDir,
      logPath: `${dataDir}/dockerd.log`,
      socketPath: `${runDir}/docker.sock`,
    }
  }
  isNetns(name: string) {
    return new RegExp(`^commons-swarm-${this.offset}-\\d+$`).test(name)
  }
  isLink(name: string) {
    return new RegExp(`^${this.bridge}(n\\d+)?$`).test(name)
  }
  isCgroup(name: string) {
    return new RegExp(`^commons-swarm-${this.offset}-\\d+$`).test(name)
  }
}

const hex = (n: number) => n.toString(16).padStart(2, '0')

// ---- network ---------------------------------------------------------------------

async function createBridge(names: Names) {
  const { bridge, gateway, comment } = names
  await run('ip', ['link', 'add', bridge, 'address', `06:cd:0a:d5:${hex(names.offset)}:01`, 'type', 'bridge'])
  await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge])
  await run('ip', ['link', 'set', bridge, 'up'])
  // Inserted in this order, they end up: accept between nodes, then reject what leaves.
  await run('iptables', ['-w', '-I', 'FORWARD', '1', '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', comment, '-j', 'REJECT'])
  await run('iptables', ['-w', '-I', 'FORWARD', '1', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', comment, '-j', 'ACCEPT'])
}

async function createNodeNetwork(names: Names, m: Member) {
  await run('ip', ['netns', 'add', m.netns])
  await run('ip', ['link', 'add', m.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', m.mac, 'netns', m.netns])
  await run('ip', ['link', 'set', m.hostVeth, 'master', names.bridge, 'up'])
  await run('ip', ['-n', m.netns, 'addr', 'add', `${m.address}/24`, 'dev', 'eth0'])
  await run('ip', ['-n', m.netns, 'link', 'set', 'lo', 'up'])
  await run('ip', ['-n', m.netns, 'link', 'set', 'eth0', 'up'])
  await run('ip', ['-n', m.netns, 'route', 'add', 'default', 'via', names.gateway])
}

async function removeNodeNetwork(m: Member) {
  // Deleting one end of the veth deletes both at once (a namespace's own teardown is asynchronous).
  await run('ip', ['link', 'del', m.hostVeth], { allowFail: true })
  await run('ip', ['netns', 'del', m.netns], { allowFail: true })
}

// ---- engines ---------------------------------------------------------------------

async function startEngine(m: Member, log: (line: string) => void) {
  // A fresh exec root each start, as /run after a reboot; the data root stays.
  rmSync(m.runDir, { recursive: true, force: true })
  mkdirSync(m.runDir, { recursive: true })
  mkdirSync(path.join(m.dataDir, 'docker'), { recursive: true })
  mkdirSync(path.join(m.dataDir, 'etc-docker'), { recursive: true })
  const initScript = path.join(m.runDir, 'init.sh')
  writeFileSync(initScript, initScriptFor(m))

  const logStart = existsSync(m.logPath) ? statSync(m.logPath).size : 0
  const fd = openSync(m.logPath, 'a')
  let child: ChildProcess
  try {
    child = spawn(
      'nsenter',
      [`--net=/run/netns/${m.netns}`, '--', 'unshare', '--uts', '--mount', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', '--', 'sh', initScript],
      {
        stdio: ['ignore', fd, fd],
        env: { PATH: systemPath, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
      }
    )
  } finally {
    closeSync(fd)
  }
  // The test process may end without close(): a node must not keep it alive.
  child.unref()
  m.child = child
  let exit: string | undefined
  m.exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`
      resolve()
    })
  )
  let spawnError: Error | undefined
  child.once('error', (error) => (spawnError = error))

  const deadline = Date.now() + engineStartMs
  for (;;) {
    if (spawnError) throw new SwarmClusterError(`Could not start ${m.name}'s engine (nsenter): ${spawnError.message}`)
    if (exit !== undefined)
      throw new SwarmClusterError(
        `${m.name}'s dockerd exited (${exit}) before answering on ${m.socketPath}. Its log (${m.logPath}):\n${logTail(m.logPath, logStart)}`
      )
    if (await pingDocker(m.socketPath, 1000).catch(() => false)) break
    if (Date.now() > deadline) {
      killTree(m)
      throw new SwarmClusterError(
        `${m.name}'s dockerd did not answer on ${m.socketPath} within ${engineStartMs / 1000} s (killed it). Its log (${m.logPath}):\n${logTail(
          m.logPath,
          logStart
        )}`
      )
    }
    await sleep(100)
  }
  log(`${m.name}: dockerd answers on ${m.socketPath} (log ${m.logPath})`)
}

function initScriptFor(m: Member): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`
  const keep = path.join(m.dataDir, '.keep')
  const etcDocker = path.join(m.dataDir, 'etc-docker')
  writeFileSync(path.join(etcDocker, 'daemon.json'), '{}\n')
  const dockerd = [
    'dockerd',
    '--data-root',
    path.join(m.dataDir, 'docker'),
    '--exec-root',
    path.join(m.runDir, 'exec'),
    '--pidfile',
    path.join(m.runDir, 'docker.pid'),
    // The host reaches it at the first; its own containers at the second, in the node's own /run.
    '--host',
    `unix://${m.socketPath}`,
    '--host',
    'unix:///run/docker.sock',
    '--config-file',
    path.join(etcDocker, 'daemon.json'),
    '--storage-driver',
    'overlay2',
    '--cgroup-parent',
    `/${m.netns}`,
  ]
  return `# ${m.name}: the first process of its own PID, mount and UTS namespaces, in network namespace ${m.netns}.
set -eu
hostname ${q(m.name)}
keep=${q(keep)}
mkdir -p "$keep/run" "$keep/cgroup" /var/lib/docker /etc/docker
# /etc/resolv.conf may point into /run (systemd-resolved, resolvconf): keep what it says.
resolv=$(readlink -f /etc/resolv.conf || true)
case "$resolv" in /run/*) cp "$resolv" "$keep/resolv.conf" ;; *) resolv= ;; esac
mount --bind ${q(m.runDir)} "$keep/run"
mount --rbind /sys/fs/cgroup "$keep/cgroup"
# The copies of the host's mounts under /run (the main engine's netns files,
# /run/netns) and /var/lib/docker (its containers' layers) go from this view,
# so nothing here holds them; then /run is the node's own, as on a machine of
# its own, with only its run folder from the host's.
while read -r _ _ _ _ point _; do case "$point" in /run|/run/*|/var/lib/docker|/var/lib/docker/*) echo "$point" ;; esac; done < /proc/self/mountinfo | sort -r | while read -r point; do umount -l "$point" 2>/dev/null || true; done
mount -t tmpfs -o mode=0755 commons-swarm /run
mkdir -p ${q(m.runDir)}
mount --move "$keep/run" ${q(m.runDir)}
if [ -n "$resolv" ]; then mkdir -p "$(dirname "$resolv")"; cp "$keep/resolv.conf" "$resolv"; fi
# Its own empty /var/lib/docker and /etc/docker (key.json, daemon.json): nothing of the main engine's.
mount -t tmpfs -o mode=0711 commons-swarm /var/lib/docker
mount --bind ${q(etcDocker)} /etc/docker
# A sysfs of this network namespace (/sys/class/net), with the cgroup mounts carried over.
umount -l /sys
mount -t sysfs sysfs /sys
mount --move "$keep/cgroup" /sys/fs/cgroup
exec docker-init -- ${dockerd.map(q).join(' ')}
`
}

/** The first process of the node's PID namespace: unshare's child. */
function initPid(m: Member): number | undefined {
  const parent = m.child?.pid
  if (!parent) return undefined
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
    if (children[0]) return children[0]
  } catch {
    // No such file (kernel without CONFIG_PROC_CHILDREN, or it is gone): look through /proc.
  }
  for (const pid of pids()) {
    const stat = readOr(`/proc/${pid}/stat`)
    const ppid = stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : NaN
    if (ppid === parent) return pid
  }
  return undefined
}

/**
 * SIGKILL to the first process of its PID namespace: the kernel kills every
 * other process in it at once, and unshare exits once they are all gone. (Only
 * when that process is not found, unshare itself: its --kill-child passes it on.)
 */
function killTree(m: Member) {
  const target = initPid(m) ?? m.child?.pid
  if (target) killQuietly(target)
}

async function killEngine(m: Member) {
  if (!m.child || !m.exited) return
  killTree(m)
  // unshare exits once its child (and so the whole namespace) is gone.
  const gone = await Promise.race([m.exited.then(() => true), sleep(10_000).then(() => false)])
  if (!gone)
    throw new SwarmClusterError(
      `${m.name}'s engine (unshare pid ${m.child.pid}) did not end within 10 s of SIGKILL: look at \`ps -ef | grep ${m.runDir}\` (a process stuck in the kernel?)`
    )
  m.child = undefined
  m.exited = undefined
}

// ---- swarm ---------------------------------------------------------------------

async function swarmNodeId(m: Member): Promise<string> {
  const info = (await m.docker.info()) as { Swarm?: { NodeID?: string } }
  if (!info.Swarm?.NodeID) throw new SwarmClusterError(`${m.name} says it has no Swarm node id after joining`)
  return info.Swarm.NodeID
}

async function waitForState(manager: Member, m: Member, state: 'ready' | 'down') {
  const deadline = Date.now() + nodeStateMs
  let last = 'unknown'
  for (;;) {
    try {
      const node = (await manager.docker.getNode(m.id).inspect()) as { Status?: { State?: string } }
      last = node.Status?.State ?? 'unknown'
      if (last === state) return
    } catch (error) {
      last = `(manager: ${error instanceof Error ? error.message : String(error)})`
    }
    if (Date.now() > deadline) {
      throw new SwarmClusterError(
        `The manager did not report ${m.name} ${state} within ${nodeStateMs / 1000} s (last: ${last}). Logs: ${manager.logPath} and ${m.logPath}\n${
          m.name
        }:\n${logTail(m.logPath, 0, 20)}`
      )
    }
    await sleep(200)
  }
}

async function setLabels(manager: Member, m: Member, labels: Record<string, string>) {
  const node = manager.docker.getNode(m.id)
  const info = (await node.inspect()) as { Version: { Index: number }; Spec: { Labels?: Record<string, string> } & Record<string, unknown> }
  await node.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Labels: { ...info.Spec.Labels, ...labels } } })
}

// ---- images ---------------------------------------------------------------------

async function imageId(docker: Docker, name: string): Promise<string | undefined> {
  try {
    return ((await docker.getImage(name).inspect()) as { Id: string }).Id
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined
    throw error
  }
}

async function copyImage(main: Docker, m: Member, name: string, log: (line: string) => void) {
  const id = await imageId(main, name)
  if (!id) throw new SwarmClusterError(`Image ${name} is not on the main engine`)
  if ((await imageId(m.docker, name)) === id) return
  const t = Date.now()
  const tar = await main.getImage(name).get()
  const response = await m.docker.loadImage(tar)
  const output = await new Promise<unknown[]>((resolve, reject) =>
    m.docker.modem.followProgress(response, (error: Error | null, result: unknown[]) => (error ? reject(error) : resolve(result)))
  )
  const failure = output.find((item): item is { error: string } => typeof item === 'object' && item !== null && 'error' in item)
  if (failure) throw new SwarmClusterError(`Loading ${name} into ${m.name} failed: ${failure.error}`)
  if ((await imageId(m.docker, name)) !== id)
    throw new SwarmClusterError(`Loading ${name} into ${m.name} reported success, but the image is not there: ${JSON.stringify(output)}`)
  log(`${m.name}: loaded ${name} in ${seconds(t)} s`)
}

// ---- leftovers ---------------------------------------------------------------------

/**
 * Removes whatever of this offset is there: processes, namespaces, links,
 * rules, mounts, cgroups, folders. Used at start (a crashed run) and by close().
 */
async function removeLeftovers(names: Names, log: (line: string) => void) {
  const problems: string[] = []
  const note = (what: string, result: { code: number; stderr: string }) => {
    if (result.code !== 0) problems.push(`${what}: ${result.stderr.trim()}`)
  }

  // Processes: every one of a node has the node's run folder on its command line (or is in its PID namespace, and dies with its first process).
  const marker = `${names.runBase}/`
  const ours = () => pids().filter((pid) => pid !== process.pid && (readOr(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ').includes(marker))
  const found = ours()
  if (found.length > 0) {
    log(`Killing ${found.length} process(es) left by an earlier swarm cluster ${names.offset}`)
    for (const pid of found) killQuietly(pid)
    const deadline = Date.now() + 10_000
    while (ours().length > 0 && Date.now() < deadline) await sleep(100)
    const still = ours()
    if (still.length > 0) problems.push(`processes ${still.join(', ')} did not end on SIGKILL`)
  }

  const netnsList = await run('ip', ['netns', 'list'], { allowFail: true })
  for (const line of netnsList.stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? ''
    if (!names.isNetns(ns)) continue
    const inside = await run('ip', ['netns', 'pids', ns], { allowFail: true })
    for (const pid of inside.stdout.split(/\s+/).filter(Boolean).map(Number)) killQuietly(pid)
    note(`ip netns del ${ns}`, await run('ip', ['netns', 'del', ns], { allowFail: true }))
  }

  const links = await run('ip', ['-o', 'link', 'show'], { allowFail: true })
  const linkNames = links.stdout
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter((name) => names.isLink(name))
  // Veths first, the bridge last.
  for (const name of linkNames.sort((a, b) => b.length - a.length)) {
    const result = await run('ip', ['link', 'del', name], { allowFail: true })
    if (result.code !== 0 && !/Cannot find device/.test(result.stderr)) note(`ip link del ${name}`, result)
  }

  const rules = await run('iptables', ['-w', '-S', 'FORWARD'], { allowFail: true })
  for (const rule of rules.stdout.split('\n')) {
    const args = rule.trim().split(/\s+/)
    const at = args.indexOf('--comment')
    if (args[0] !== '-A' || at < 0 || args[at + 1]?.replace(/^"|"$/g, '') !== names.comment) continue
    note(`iptables -D ${args.slice(1).join(' ')}`, await run('iptables', ['-w', '-D', ...args.slice(1)], { allowFail: true }))
  }

  // Mounts of a node live in its own mount namespace and go with it; these would be from something else.
  const mountPoints = (readOr('/proc/self/mountinfo') ?? '')
    .split('\n')
    .map((line) => unescapeMount(line.split(' ')[4] ?? ''))
    .filter((point) => [names.dataBase, names.runBase].some((base) => point === base || point.startsWith(`${base}/`)))
  for (const point of mountPoints.sort().reverse()) note(`umount -l ${point}`, await run('umount', ['-l', point], { allowFail: true }))

  // Cgroups of the nodes' containers (--cgroup-parent /commons-swarm-<offset>-<i>), in every hierarchy.
  const hierarchies = (readOr('/proc/self/mountinfo') ?? '')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => unescapeMount(line.split(' ')[4] ?? ''))
  for (const hierarchy of hierarchies) {
    for (const entry of readdirOr(hierarchy)) {
      if (!names.isCgroup(entry)) continue
      const error = await removeCgroup(path.join(hierarchy, entry))
      if (error) problems.push(error)
    }
  }

  for (const dir of [names.dataBase, names.runBase]) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    } catch (error) {
      problems.push(`rm -rf ${dir}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  if (problems.length > 0) {
    throw new SwarmClusterError(
      `Could not remove everything of swarm cluster ${names.offset}:\n  ${problems.join('\n  ')}\nRemove it by hand (or run as root), then try again.`
    )
  }
}

/** rmdir, deepest first: a cgroup is removed by rmdir once no process is in it. */
async function removeCgroup(dir: string): Promise<string | undefined> {
  for (const entry of readdirOr(dir, true)) {
    const error = await removeCgroup(path.join(dir, entry))
    if (error) return error
  }
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir)
      return undefined
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return undefined
      // Busy while the last killed processes are reaped.
      if (code !== 'EBUSY' || attempt >= 50) return `rmdir ${dir}: ${(error as Error).message}`
      await sleep(100)
    }
  }
}

// ---- helpers ---------------------------------------------------------------------

type RunResult = { code: number; stdout: string; stderr: string }

function run(command: string, args: string[], opts: { allowFail?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { PATH: systemPath }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      const result = { code, stdout: String(stdout), stderr: String(stderr) || (error && typeof error.code !== 'number' ? error.message : '') }
      if (code !== 0 && !opts.allowFail) reject(new SwarmClusterError(`${command} ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${code}`}`))
      else resolve(result)
    })
  })
}

async function probeInScratchNamespace<T>(prefix: string, probe: (ns: string) => Promise<T>): Promise<T> {
  const ns = `${prefix}-${process.pid}`
  await run('ip', ['netns', 'add', ns])
  try {
    return await probe(ns)
  } finally {
    await run('ip', ['netns', 'del', ns], { allowFail: true })
  }
}

let kernelConfigText: string | null | undefined
/** The running kernel's build options (/proc/config.gz), when it exposes them. */
function kernelConfig(): string | undefined {
  if (kernelConfigText === undefined) {
    try {
      kernelConfigText = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8')
    } catch {
      kernelConfigText = null
    }
  }
  return kernelConfigText ?? undefined
}

function onPath(command: string): boolean {
  return systemPath.split(':').some((dir) => existsSync(path.join(dir, command)))
}

function pids(): number[] {
  return readdirOr('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
}

function readdirOr(dir: string, dirsOnly = false): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => !dirsOnly || entry.isDirectory())
      .map((entry) => entry.name)
  } catch {
    return []
  }
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function killQuietly(pid: number) {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Gone already.
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function removeIfEmpty(dir: string) {
  try {
    rmdirSync(dir)
  } catch {
    // Not empty (another offset's cluster) or not there.
  }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
const unescapeMount = (point: string) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))

function logTail(file: string, from: number, lines = 40): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8').trimEnd()
    return text.split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1)
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
