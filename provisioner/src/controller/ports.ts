import type { ClientSpec, RouteSpec } from '../spec.ts'

// What the controller needs from Keycloak and from the reverse proxy, as
// interfaces, so the controller does not depend on their HTTP details.

export interface IdentityPort {
  /** Client ids of every instance client the provisioner owns, by instance id. */
  listInstanceClients(): Promise<Map<string, string>>
  clientExists(clientId: string, instanceId: string): Promise<boolean>
  ensureClient(spec: ClientSpec, secret: string): Promise<void>
  deleteClient(clientId: string, instanceId: string): Promise<void>
}

export interface ProxyPort {
  /** Route ids whose id starts with `prefix`. */
  listRouteIds(prefix: string): Promise<string[]>
  ensureRoute(route: RouteSpec): Promise<void>
  removeRoute(id: string): Promise<void>
}
