import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "@eddy/server";
import type { FaultInjector } from "./crash-points.js";

/** Options of the cluster backend. Only the two addresses matter to most users. */
export interface ClusterOptions {
  /** NATS server(s) with JetStream, e.g. `nats://127.0.0.1:4222` (comma-separated for several). */
  nats: string;
  /** PostgreSQL connection URL, e.g. `postgres://eddy@127.0.0.1:5432/eddy`. */
  postgres: string;
  /**
   * Names everything this cluster owns: the JetStream streams (`<PREFIX>_LOG`, `<PREFIX>_WORK`),
   * the NATS subjects (`<prefix>.…`) and the PostgreSQL schema (`<prefix>`). Nodes of one cluster
   * share it; two clusters on the same servers need two prefixes. Default `eddy`.
   */
  prefix?: string;
  /** Replicas of the JetStream streams (3 on a 3-server NATS cluster for power-loss durability). Default 1. */
  replicas?: number;
  /** How long the event log keeps events, in ms; 0 (default) keeps them until removed by hand. */
  logMaxAgeMs?: number;
  /**
   * How often an idle node looks for work that other nodes' leases or retries may hand back
   * (JetStream holds those timers, so no node is told). Default 1000 ms.
   */
  pollMs?: number;
  /** Names this node in lease tokens and logs. Default `<hostname>-<pid>`. */
  nodeId?: string;
  /** How often this node tells the others it is alive, with the leases it holds (heartbeat.ts). Default 1000 ms. */
  heartbeatMs?: number;
  /**
   * A node that did not beat for this long is taken for dead: another node takes over its leases
   * at once. At least twice `heartbeatMs`. Default 5000 ms.
   */
  deadAfterMs?: number;
  /** Largest number of PostgreSQL connections of this node. Default 10. */
  poolSize?: number;
  log?: Logger;
  /**
   * Tests only: called at every named crash point of the cross-store writes (crash-points.ts), to
   * throw there or end the process. Leave unset.
   */
  faults?: FaultInjector;
}

/** {@link ClusterOptions} with every default filled in and the derived names. */
export interface ResolvedClusterOptions extends Required<Omit<ClusterOptions, "log" | "faults">> {
  log: Logger | undefined;
  faults: FaultInjector | undefined;
  /** This process's run of the node, unique (a restarted node with the same id is another instance). */
  instance: string;
  logStream: string;
  workStream: string;
  logSubject: string;
  wakeSubject: string;
  /** Requests for each node's report of its leases (the admin view, peers.ts). */
  inspectSubject: string;
}

const PREFIX = /^[a-z][a-z0-9_]{0,39}$/;

/** Checks the options and derives stream, subject and schema names from the prefix. */
export function resolveOptions(options: ClusterOptions): ResolvedClusterOptions {
  const prefix = options.prefix ?? "eddy";
  if (!PREFIX.test(prefix)) {
    throw new TypeError(
      `[cluster] prefix must be 1-40 lowercase letters, digits or "_", starting with a letter; got ${JSON.stringify(prefix)}`,
    );
  }
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new TypeError(`[cluster] replicas must be an integer from 1 to 5, got ${replicas}`);
  }
  const heartbeatMs = options.heartbeatMs ?? 1_000;
  const deadAfterMs = options.deadAfterMs ?? 5_000;
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 10) {
    throw new TypeError(`[cluster] heartbeatMs must be an integer >= 10, got ${heartbeatMs}`);
  }
  if (!Number.isInteger(deadAfterMs) || deadAfterMs < 2 * heartbeatMs) {
    throw new TypeError(
      `[cluster] deadAfterMs must be an integer >= 2 × heartbeatMs (${2 * heartbeatMs}), got ${deadAfterMs}`,
    );
  }
  const upper = prefix.toUpperCase();
  return {
    nats: options.nats,
    postgres: options.postgres,
    prefix,
    replicas,
    logMaxAgeMs: options.logMaxAgeMs ?? 0,
    pollMs: options.pollMs ?? 1_000,
    nodeId: options.nodeId ?? `${hostname()}-${process.pid}`,
    heartbeatMs,
    deadAfterMs,
    instance: randomUUID().replaceAll("-", ""),
    poolSize: options.poolSize ?? 10,
    log: options.log,
    faults: options.faults,
    logStream: `${upper}_LOG`,
    workStream: `${upper}_WORK`,
    logSubject: `${prefix}.log`,
    wakeSubject: `${prefix}.wake`,
    inspectSubject: `${prefix}.inspect`,
  };
}

/**
 * A function name as a NATS subject token and consumer name: names may contain ".", which both
 * forbid, and never contain "~" (see the SDK's name rule), so the mapping is one-to-one.
 */
export function fnToken(fn: string): string {
  return fn.replaceAll(".", "~");
}

/** The work subject of a function. */
export function workSubject(o: ResolvedClusterOptions, fn: string): string {
  return `${o.prefix}.work.${fnToken(fn)}`;
}

/** The function of a work subject (the inverse of {@link workSubject}). */
export function fnOfWorkSubject(o: ResolvedClusterOptions, subject: string): string {
  return subject.slice(`${o.prefix}.work.`.length).replaceAll("~", ".");
}
