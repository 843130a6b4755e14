import type * as Cluster from "@eddy/cluster";
import type { Backend, Logger } from "@eddy/server";
import { ClusterNotInstalledError, UsageError } from "./errors.js";

/** How `eddy dev|start` picks its store. */
export interface BackendChoice {
  backend: "embedded" | "cluster";
  nats?: string;
  postgres?: string;
  clusterPrefix?: string;
}

/**
 * Opens the backend the options ask for; undefined means the embedded store, which the server
 * opens itself. The cluster package is imported only here, at run time, so that a user of the
 * embedded store never installs (or loads) the NATS and PostgreSQL clients.
 *
 * @example
 * const backend = await openBackend({ backend: "cluster", nats: "nats://127.0.0.1:4222", postgres: url }, log);
 */
export async function openBackend(choice: BackendChoice, log: Logger): Promise<Backend | undefined> {
  if (choice.backend === "embedded") return undefined;
  const missing = [
    choice.nats ? undefined : "--nats URL (or EDDY_NATS_URL)",
    choice.postgres ? undefined : "--postgres URL (or EDDY_POSTGRES_URL)",
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`--backend cluster needs ${missing.join(" and ")}`);
  let cluster: typeof Cluster;
  try {
    cluster = await import("@eddy/cluster");
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      throw new ClusterNotInstalledError({ cause: err });
    }
    throw err;
  }
  return cluster.openClusterBackend({
    nats: choice.nats!,
    postgres: choice.postgres!,
    prefix: choice.clusterPrefix,
    nodeId: process.env.EDDY_NODE_ID,
    ...msFromEnv("EDDY_HEARTBEAT_MS", "heartbeatMs"),
    ...msFromEnv("EDDY_DEAD_AFTER_MS", "deadAfterMs"),
    log,
  });
}

/** A duration in ms from the environment, for an option of the cluster (checked there). */
function msFromEnv<K extends string>(name: string, key: K): Partial<Record<K, number>> {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return {};
  const n = Number(raw);
  if (!Number.isInteger(n))
    throw new UsageError(`${name} must be a whole number of milliseconds, got ${JSON.stringify(raw)}`);
  return { [key]: n } as Partial<Record<K, number>>;
}
