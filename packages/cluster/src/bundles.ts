import type pg from "pg";
import type { BundleStore } from "@eddy/server";

/**
 * The bundles of deployed versions in PostgreSQL (`bundles`), shared by the nodes: a version
 * deployed over HTTP through one node is in the data folder of that node only, and another node
 * that restarts fetches it from here. Names are content-addressed, so a stored name never changes.
 */
export class ClusterBundles implements BundleStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async has(names: string[]): Promise<Set<string>> {
    const { rows } = await this.#pool.query<{ name: string }>(
      "SELECT name FROM bundles WHERE name = ANY($1::text[])",
      [names],
    );
    return new Set(rows.map((r) => r.name));
  }

  async put(bundles: { name: string; code: Uint8Array }[]): Promise<void> {
    for (const b of bundles) {
      await this.#pool.query(
        "INSERT INTO bundles (name, code) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        [b.name, Buffer.from(b.code)],
      );
    }
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.#pool.query<{ code: Buffer }>("SELECT code FROM bundles WHERE name = $1", [
      name,
    ]);
    return rows[0]?.code;
  }
}
