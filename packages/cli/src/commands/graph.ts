import type { Command } from "commander";
import type { GraphResponse } from "eddy";
import { UsageError } from "../errors.js";
import { DEFAULT_KEY, DEFAULT_URL, explainRequestError, getApi, integer } from "../options.js";
import { toMermaid } from "./graph-mermaid.js";

/** `eddy graph`: the choreography map of a server, as Mermaid or JSON. */
export function registerGraphCommand(program: Command): void {
  program
    .command("graph")
    .description("the choreography map: event types, queues, functions, and who consumes and emits what")
    .option("--format <format>", "mermaid (a flowchart) or json (GET /v1/graph as is)", "mermaid")
    .option(
      "--since <time>",
      'observed edges from attempts since: "24h" (ago), an ISO date, or epoch ms',
      "24h",
    )
    .option("--limit <n>", "most records read for observed edges (1-10000)", integer("--limit"))
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY)
    .action(async (o: { format: string; since: string; limit?: number; url: string; key?: string }) => {
      if (o.format !== "mermaid" && o.format !== "json") {
        throw new UsageError(`--format is "mermaid" or "json", got ${o.format}`);
      }
      const q = new URLSearchParams({ since: o.since });
      if (o.limit !== undefined) q.set("limit", String(o.limit));
      await explainRequestError(o.url, async () => {
        const graph = await getApi<GraphResponse>(o.url, o.key, `/v1/graph?${q}`);
        process.stdout.write(o.format === "json" ? `${JSON.stringify(graph, null, 2)}\n` : toMermaid(graph));
      });
    });
}
