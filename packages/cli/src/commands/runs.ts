import type { Command } from "commander";
import { EddyClient } from "eddy";
import type { RunStatusView, RunStepView, RunSummary, RunView } from "eddy";
import { RUN_STATUSES } from "eddy/internal";
import { UsageError } from "../errors.js";
import { DEFAULT_KEY, DEFAULT_URL, explainRequestError, integer } from "../options.js";

interface Common {
  url: string;
  key?: string;
}

/** `eddy runs ls|show|cancel|retry`: workflow runs over `/v1/runs`. */
export function registerRunsCommand(program: Command): void {
  const runs = program.command("runs").description("list, inspect, cancel and retry workflow runs");
  const common = (c: Command) =>
    c
      .option("--url <url>", "server URL (or EDDY_URL)", DEFAULT_URL)
      .option("--key <key>", "API key or token (or EDDY_API_KEY, EDDY_ADMIN_KEY)", DEFAULT_KEY);
  const client = (o: Common) => new EddyClient({ url: o.url, apiKey: o.key });

  common(runs.command("ls").description("runs, newest first: id, workflow, status, created, due or ended"))
    .option("--workflow <name>", "only this workflow's")
    .option("--status <status>", `only runs with this status (${RUN_STATUSES.join(", ")})`)
    .option("--limit <n>", "at most this many (1-1000)", integer("--limit"), 50)
    .option("--before <id>", "runs created before this run (the next page)")
    .action(async (o: Common & { workflow?: string; status?: string; limit: number; before?: string }) => {
      if (o.status !== undefined && !RUN_STATUSES.includes(o.status as RunStatusView)) {
        throw new UsageError(`--status is one of ${RUN_STATUSES.join(", ")}; got ${o.status}`);
      }
      await explainRequestError(o.url, async () => {
        const page = await client(o).runs({
          limit: o.limit,
          ...(o.workflow !== undefined ? { workflow: o.workflow } : {}),
          ...(o.status !== undefined ? { status: o.status as RunStatusView } : {}),
          ...(o.before !== undefined ? { before: o.before } : {}),
        });
        if (page.runs.length === 0) process.stdout.write("no runs\n");
        for (const r of page.runs) process.stdout.write(summaryLine(r) + "\n");
        if (page.next !== undefined) process.stderr.write(`more: eddy runs ls --before ${page.next}\n`);
      });
    });

  common(runs.command("show <id>").description("one run: status, trigger, each step, output or error"))
    .option("--json", "print GET /v1/runs/ID as is")
    .action(async (id: string, o: Common & { json?: boolean }) => {
      await explainRequestError(o.url, async () => {
        const run = await client(o).run(id);
        process.stdout.write(o.json ? `${JSON.stringify(run, null, 2)}\n` : showRun(run));
      });
    });

  common(runs.command("cancel <id>").description("cancel a run that has not finished")).action(
    async (id: string, o: Common) => {
      await explainRequestError(o.url, async () => {
        await client(o).cancelRun(id);
        process.stdout.write(`cancelled ${id}\n`);
      });
    },
  );

  common(
    runs
      .command("retry <id>")
      .description("resume a failed run from its failed step, keeping the finished ones"),
  ).action(async (id: string, o: Common) => {
    await explainRequestError(o.url, async () => {
      const r = await client(o).retryRun(id);
      process.stdout.write(`retrying ${id} (now ${r.status}; follow it: eddy runs show ${id})\n`);
    });
  });
}

const iso = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toISOString());

/** id, workflow, status, created, and when it is due (suspended) or ended. */
function summaryLine(r: RunSummary): string {
  const when =
    r.endedAt !== undefined ? `ended ${iso(r.endedAt)}` : r.dueAt !== undefined ? `due ${iso(r.dueAt)}` : "";
  return [r.id, r.workflow, r.status, iso(r.createdAt), when].join("\t").trimEnd();
}

/** A run for people: a header, one line per step, then the output or the error. */
function showRun(r: RunView): string {
  const out = [
    `run       ${r.id}`,
    `workflow  ${r.workflow} (version ${r.version})`,
    `status    ${r.status}`,
    `created   ${iso(r.createdAt)}`,
    ...(r.endedAt !== undefined ? [`ended     ${iso(r.endedAt)}`] : []),
    ...(r.dueAt !== undefined ? [`due       ${iso(r.dueAt)}`] : []),
    `trigger   ${r.event.type} ${r.event.id}`,
    `steps     ${r.steps.length}`,
    ...r.steps.map(stepLine),
  ];
  if (r.output !== undefined) out.push(`output    ${JSON.stringify(r.output)}`);
  if (r.error)
    out.push(`error     ${r.error.name}${r.error.code ? ` ${r.error.code}` : ""}: ${r.error.message}`);
  return out.join("\n") + "\n";
}

function stepLine(s: RunStepView): string {
  const parts = [`  ${s.id}`, s.kind, s.status, `attempts ${s.attempts}`, `${s.resultBytes} B`];
  if (s.waitFor !== undefined) parts.push(`waits for ${s.waitFor}`);
  if (s.wakeAt !== undefined) parts.push(`due ${iso(s.wakeAt)}`);
  if (s.error) parts.push(`${s.error.name}: ${s.error.message}`);
  return parts.join("\t");
}
