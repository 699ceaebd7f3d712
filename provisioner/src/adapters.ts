import type { IdentityPort, ProxyPort } from './controller/ports.ts'
import { KeycloakInstanceClients } from './keycloak/instance-clients.ts'
import { CaddyRoutes } from './proxy/caddy.ts'
import type { ClientSpec, RouteSpec } from './spec.ts'

/** Keycloak's admin API as the controller's identity port. */
export class KeycloakIdentity implements IdentityPort {
  constructor(readonly clients: KeycloakInstanceClients) {}

  async listInstanceClients(): Promise<Map<string, string>> {
    return new Map((await this.clients.listInstanceClients()).map((c) => [c.instanceId, c.clientId]))
  }

  async clientExists(clientId: string, instanceId: string): Promise<boolean> {
    return (await this.listInstanceClients()).get(instanceId) === clientId
  }

  ensureClient(spec: ClientSpec, secret: string): Promise<void> {
    return this.clients.ensureClient({ ...spec, secret })
  }

  deleteClient(clientId: string, instanceId: string): Promise<void> {
    return this.clients.deleteClient(clientId, instanceId)
  }
}

/** Caddy's admin API as the controller's proxy port. */
export class CaddyProxy implements ProxyPort {
  constructor(readonly routes: CaddyRoutes) {}

  async listRouteIds(prefix: string): Promise<string[]> {
    return (await this.routes.listRoutes(prefix)).map((r) => r.id)
  }

  async ensureRoute(route: RouteSpec): Promise<void> {
    await this.routes.ensureRoute(route)
  }

  async removeRoute(id: string): Promise<void> {
    await this.routes.removeRoute(id)
  }
}
