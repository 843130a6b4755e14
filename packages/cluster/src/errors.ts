/**
 * The conditions that stop a cluster node from starting. Each message names the component, the
 * address and what to run, e.g. `[cluster] cannot reach NATS at 127.0.0.1:4222: connection refused
 * — is nats-server -js running?`. docs/errors.md lists each code under "Starting a server".
 */
import { EddyError } from "eddy";

/** A server of the cluster cannot be reached or is not usable (the base of the two below). */
export class ClusterConnectError extends EddyError {}

/** NATS cannot be reached, or it offers no JetStream. */
export class NatsUnreachableError extends ClusterConnectError {
  static readonly code = "EDDY_CLUSTER_NATS_UNREACHABLE";
  constructor(message: string, cause: unknown) {
    super(NatsUnreachableError.code, message, { cause });
  }
}

/** PostgreSQL cannot be reached, the database does not exist, or the credentials are refused. */
export class PostgresUnreachableError extends ClusterConnectError {
  static readonly code = "EDDY_CLUSTER_POSTGRES_UNREACHABLE";
  constructor(message: string, cause: unknown) {
    super(PostgresUnreachableError.code, message, { cause });
  }
}

/** Both servers answered, but the node could not create its streams and tables or write its heartbeat. */
export class ClusterSetupError extends EddyError {
  static readonly code = "EDDY_CLUSTER_SETUP_FAILED";
  constructor(message: string, cause: unknown) {
    super(ClusterSetupError.code, message, { cause });
  }
}

/** Every condition of the cluster backend that stops a node from starting. */
export const CLUSTER_START_ERRORS = [
  NatsUnreachableError,
  PostgresUnreachableError,
  ClusterSetupError,
] as const;
