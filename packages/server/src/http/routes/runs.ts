import type { FastifyPluginAsync } from "fastify";
import type {
  RunsParams,
  RunsResponse,
  RunStatusView,
  RunView,
  StartRunRequest,
  StartRunResponse,
} from "eddy";
import type { Query, Unchecked } from "eddy/internal";
import { RUN_STATUSES } from "eddy/internal";
import type { Engine } from "../../engine.js";
import {
  InvalidRequestError,
  RunFinishedError,
  RunNotFailedError,
  RunNotFoundError,
  WorkflowNotFoundError,
} from "../../errors/http.js";
import type { Answer } from "../reply.js";

const MAX_ID = 256;

type StartRoute = {
  Params: { name: string };
  Body: Unchecked<StartRunRequest>;
  Reply: Answer<StartRunResponse>;
};
type ListRoute = { Querystring: Query<RunsParams>; Reply: Answer<RunsResponse> };
type GetRoute = { Params: { id: string }; Reply: Answer<RunView> };
type CancelRoute = { Params: { id: string }; Reply: Answer<StartRunResponse> };

const statusUrl = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

/**
 * Workflow runs: `POST /v1/workflows/NAME/runs` starts one (202 with its id, once its trigger is
 * durable), `GET /v1/runs` lists them newest first, `GET /v1/runs/ID` shows one with its steps,
 * `POST /v1/runs/ID/cancel` cancels one that has not finished, `POST /v1/runs/ID/retry` resumes a
 * failed one from its failed step.
 */
export const runRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.post<StartRoute>("/v1/workflows/:name/runs", async (req, reply) => {
    const body = req.body ?? {};
    if (typeof body !== "object" || Array.isArray(body)) {
      throw new InvalidRequestError('the body must be a JSON object such as { "data": { … } }');
    }
    const id = body.id;
    if (id !== undefined && (typeof id !== "string" || id === "" || id.length > MAX_ID)) {
      throw new InvalidRequestError(
        `id must be a string of 1-${MAX_ID} characters, got ${JSON.stringify(id)}`,
      );
    }
    const runId = await engine.workflows.start(req.params.name, body.data, id as string | undefined);
    if (runId === undefined) throw new WorkflowNotFoundError(`no workflow ${req.params.name} is deployed`);
    return reply
      .code(202)
      .header("location", statusUrl(runId))
      .send({ id: runId, status: "running", statusUrl: statusUrl(runId) } satisfies StartRunResponse);
  });

  app.get<ListRoute>("/v1/runs", async (req) => {
    const q = req.query;
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InvalidRequestError(
        `limit must be an integer from 1 to 1000, got ${JSON.stringify(q.limit)}`,
      );
    }
    if (q.status !== undefined && !RUN_STATUSES.includes(q.status as RunStatusView)) {
      throw new InvalidRequestError(
        `status must be one of ${RUN_STATUSES.join(", ")}; got ${JSON.stringify(q.status)}`,
      );
    }
    if (q.before !== undefined && (q.before === "" || q.before.length > MAX_ID)) {
      throw new InvalidRequestError("before must be a run id (the next of the previous page)");
    }
    const runs = await engine.workflows.list({
      limit,
      ...(q.workflow !== undefined ? { workflow: q.workflow } : {}),
      ...(q.status !== undefined ? { status: q.status as RunStatusView } : {}),
      ...(q.before !== undefined ? { before: q.before } : {}),
    });
    const out: RunsResponse = { runs };
    if (runs.length === limit) out.next = runs[runs.length - 1]!.id;
    return out;
  });

  app.get<GetRoute>("/v1/runs/:id", async (req) => {
    const run = await engine.workflows.get(req.params.id);
    if (!run) throw new RunNotFoundError(`no run ${req.params.id}`);
    return run;
  });

  app.post<CancelRoute>("/v1/runs/:id/cancel", async (req) => {
    const { id } = req.params;
    if (!(await engine.workflows.cancel(id))) {
      const run = await engine.workflows.get(id);
      if (!run) throw new RunNotFoundError(`no run ${id}`);
      throw new RunFinishedError(`run ${id} has ${run.status} already`);
    }
    return { id, status: "cancelled", statusUrl: statusUrl(id) } satisfies StartRunResponse;
  });

  app.post<CancelRoute>("/v1/runs/:id/retry", async (req) => {
    const { id } = req.params;
    if (!(await engine.workflows.retry(id))) {
      const run = await engine.workflows.get(id);
      if (!run) throw new RunNotFoundError(`no run ${id}`);
      throw new RunNotFailedError(`run ${id} is ${run.status}: only a failed run is retried`);
    }
    return { id, status: "running", statusUrl: statusUrl(id) } satisfies StartRunResponse;
  });
};
