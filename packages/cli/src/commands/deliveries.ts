import type { Command } from "commander";
import type { DeliveriesResponse, DeliveryView } from "eddy";
import { authHeaders, DEFAULT_KEY, DEFAULT_URL, explainRequestError } from "../options.js";
import { RequestRefusedError } from "../errors.js";

/**
 * `eddy deliveries`: the work in progress (leased, until when, on which node) or, with
 * `--overdue`, what is due and not running: `GET /v1/deliveries`, one line per delivery.
 */
export function registerDeliveriesCommand(program: Command): void {
  program
    .command("deliveries")
    .description("leased deliveries (until when, on which node), or with --overdue those due and not running")
    .option("--overdue", "deliveries due for longer than --overdue-ms and not running")
    .option("--overdue-ms <ms>", "how long past due counts as overdue", "30000")
    .option("--function <name>", "only this function's (or queue:NAME)")
    .option("--limit <n>", "at most this many", "100")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY)
    .action(
      async (o: {
        overdue?: boolean;
        overdueMs: string;
        function?: string;
        limit: string;
        url: string;
        key?: string;
      }) => {
        const state = o.overdue ? "overdue" : "leased";
        const q = new URLSearchParams({ state, limit: o.limit, overdueMs: o.overdueMs });
        if (o.function) q.set("function", o.function);
        await explainRequestError(o.url, async () => {
          const res = await fetch(`${o.url.replace(/\/+$/, "")}/v1/deliveries?${q}`, {
            headers: authHeaders(o.key),
          });
          const body = (await res.json().catch(() => ({}))) as Partial<DeliveriesResponse> & {
            detail?: string;
          };
          if (!res.ok || !body.deliveries)
            throw new RequestRefusedError(`refused (${res.status}): ${body.detail ?? ""}`);
          if (body.deliveries.length === 0) console.log(`no ${state} deliveries`);
          for (const d of body.deliveries) console.log(line(d));
        });
      },
    );
}

/** id, function, state, attempt, event type, event id, lease end or due time, and the node. */
function line(d: DeliveryView): string {
  const node = d.node === undefined ? "" : `${d.node}${d.nodeLost ? " (lost: being taken over)" : ""}`;
  const at = new Date(d.dueAt).toISOString();
  return [d.id, d.fn, d.state, `attempt ${d.attempt}`, d.eventType, d.eventId, at, node].join("\t").trimEnd();
}
