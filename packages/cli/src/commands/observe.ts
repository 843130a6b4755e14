import type { Command } from "commander";
import type { FunctionLogLine, LogsResponse, TraceNode, TraceView, UsageLine, UsageResponse } from "eddy";
import { authHeaders, DEFAULT_KEY, DEFAULT_URL, explainRequestError, getApi, refusal } from "../options.js";
import { deployedFunction } from "./functions.js";
import { FunctionNotDeployedError, UsageError } from "../errors.js";

/** `eddy logs`, `eddy trace`, `eddy usage`: looking at what ran. */
export function registerObserveCommands(program: Command): void {
  program
    .command("logs [function]")
    .description("log lines (ctx.log) of a function, or of every function, oldest first")
    .option("-f, --follow", "keep streaming new lines")
    .option("--level <level>", "debug, info, warn or error: this level and above")
    .option("--since <time>", 'from this time: "15m" (ago), an ISO date, or epoch ms', "1h")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY)
    .action(
      async (
        fn: string | undefined,
        o: { follow?: boolean; level?: string; since: string; url: string; key?: string },
      ) => {
        const q = new URLSearchParams({ since: o.since });
        if (fn !== undefined) q.set("function", fn);
        if (o.level) q.set("level", o.level);
        await explainRequestError(o.url, async () => {
          if (!o.follow) {
            const { lines } = await getApi<LogsResponse>(o.url, o.key, `/v1/logs?${q}`);
            // A name that is not deployed and has no lines is a typo, not a quiet function.
            if (lines.length === 0 && fn !== undefined && !(await deployedFunction(o.url, o.key, fn))) {
              throw new FunctionNotDeployedError(
                `no function named "${fn}" is deployed (GET /v1/functions lists them)`,
              );
            }
            for (const l of lines) print(l);
            return;
          }
          if (fn !== undefined && !(await deployedFunction(o.url, o.key, fn))) {
            throw new FunctionNotDeployedError(
              `no function named "${fn}" is deployed (GET /v1/functions lists them)`,
            );
          }
          q.set("follow", "true");
          const res = await fetch(`${base(o.url)}/v1/logs?${q}`, { headers: authHeaders(o.key) });
          if (!res.ok) throw await refusal(res, "GET /v1/logs");
          // Server-Sent Events: one JSON line per "data:" message.
          let buffer = "";
          const decoder = new TextDecoder();
          for await (const chunk of res.body!) {
            buffer += decoder.decode(chunk as Uint8Array, { stream: true });
            let at: number;
            while ((at = buffer.indexOf("\n\n")) >= 0) {
              const message = buffer.slice(0, at);
              buffer = buffer.slice(at + 2);
              for (const line of message.split("\n"))
                if (line.startsWith("data: ")) print(JSON.parse(line.slice(6)) as FunctionLogLine);
            }
          }
        });
      },
    );

  program
    .command("trace <eventId>")
    .description("the tree of events and invocations that an event started, with timings")
    .option("--source <source>", "the event's source (finds it exactly, also when it is not recent)")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY)
    .action(async (eventId: string, o: { url: string; source?: string; key?: string }) => {
      await explainRequestError(o.url, async () => {
        const q = new URLSearchParams({ eventId, ...(o.source ? { source: o.source } : {}) });
        const view = await getApi<TraceView>(o.url, o.key, `/v1/traces?${q}`);
        process.stdout.write(`trace ${view.traceId}  ${view.durationMs.toFixed(1)} ms\n`);
        const t0 = Math.min(...view.roots.map((r) => r.start));
        const walk = (n: TraceNode, prefix: string, last: boolean) => {
          const branch = prefix + (last ? "└─ " : "├─ ");
          const at = `+${(n.start - t0).toFixed(0)}ms`;
          const what =
            n.kind === "event"
              ? `event ${n.name} (${n.id})`
              : `${n.name} #${n.attempt} ${n.status} ${n.durationMs.toFixed(1)}ms${n.coldStart ? " cold" : ""}${n.outcome && n.outcome !== "ack" ? ` → ${n.outcome}` : ""}${n.error ? `  ${n.error}` : ""}`;
          process.stdout.write(`${branch}${what}  ${at}\n`);
          n.children.forEach((c, i) => walk(c, prefix + (last ? "   " : "│  "), i === n.children.length - 1));
        };
        view.roots.forEach((r, i) => walk(r, "", i === view.roots.length - 1));
      });
    });

  program
    .command("usage")
    .description("invocations, GB-seconds and cost per function")
    .option("--since <time>", 'from this time: "24h" (ago), an ISO date, or epoch ms', "30d")
    .option("--until <time>", "until this time (default now)")
    .option("--by <what>", "function (a line each) or total", "function")
    .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
    .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY)
    .action(async (o: { since: string; until?: string; by: string; url: string; key?: string }) => {
      if (o.by !== "function" && o.by !== "total")
        throw new UsageError(`--by is "function" or "total", got ${o.by}`);
      const q = new URLSearchParams({ since: o.since });
      if (o.until) q.set("until", o.until);
      await explainRequestError(o.url, async () => {
        const u = await getApi<UsageResponse>(o.url, o.key, `/v1/usage?${q}`);
        process.stdout.write(`usage ${u.since} → ${u.until}\n`);
        process.stdout.write(
          `${"function".padEnd(24)}${"invocations".padStart(12)}${"GB-s".padStart(14)}${`cost ${u.pricing.currency}`.padStart(16)}\n`,
        );
        const row = (r: UsageLine, name: string) =>
          process.stdout.write(
            `${name.padEnd(24)}${String(r.invocations).padStart(12)}${r.gbSeconds.toFixed(6).padStart(14)}${r.cost.toFixed(8).padStart(16)}\n`,
          );
        if (o.by === "function") for (const f of u.functions) row(f, f.fn);
        row(u.total, "total");
      });
    });
}

function print(l: FunctionLogLine): void {
  const fields = l.fields && Object.keys(l.fields).length ? " " + JSON.stringify(l.fields) : "";
  process.stdout.write(
    `${new Date(l.time).toISOString()} ${l.level.toUpperCase().padEnd(5)} [${l.fn}#${l.attempt}] ${l.msg}${fields}\n`,
  );
}

function base(url: string): string {
  return url.replace(/\/+$/, "");
}
