// Type tests of defineFunction and defineBatchFunction: what the handler gets from the
// configuration, and which configurations are refused at compile time. Run by `vitest`
// (typecheck) and by `tsc -b`; nothing here runs.
import { describe, expectTypeOf, it } from "vitest";
import {
  defineBatchFunction,
  defineFunction,
  on,
  type BatchResult,
  type CloudEvent,
  type EddyFunction,
  type FunctionConfig,
  type FunctionContext,
  type HttpContext,
  type ResolvedFunctionConfig,
  type Trigger,
} from "eddy";

describe("defineFunction", () => {
  it("gives an event handler the CloudEvent and the context", () => {
    defineFunction({ triggers: [on.event({ type: ["order.paid"] })] }, (event, ctx) => {
      expectTypeOf(event).toEqualTypeOf<CloudEvent<unknown>>();
      expectTypeOf(event.data).toEqualTypeOf<unknown>();
      expectTypeOf(ctx).toEqualTypeOf<FunctionContext>();
    });
  });

  it("types event.data with the data type given", () => {
    const fn = defineFunction<{ orderId: string; total: number }>(
      { triggers: [on.event({ type: ["order.paid"] }), on.queue("orders")] },
      (event) => {
        expectTypeOf(event.data).toEqualTypeOf<{ orderId: string; total: number } | undefined>();
        expectTypeOf(event.id).toEqualTypeOf<string>();
        expectTypeOf(event.source).toEqualTypeOf<string>();
      },
    );
    expectTypeOf(fn).toEqualTypeOf<EddyFunction<{ orderId: string; total: number }>>();
  });

  it("returns the resolved configuration", () => {
    const fn = defineFunction({ triggers: [on.schedule("0 3 * * *")], timeout: "1m" }, () => undefined);
    expectTypeOf(fn.config).toEqualTypeOf<ResolvedFunctionConfig>();
    expectTypeOf(fn.config.timeoutMs).toEqualTypeOf<number>();
    expectTypeOf(fn.config.triggers).toEqualTypeOf<Trigger[]>();
  });

  it("infers a configuration literal as FunctionConfig and refuses bad options", () => {
    const config = {
      triggers: [on.event({ source: [{ prefix: "/shop" }] })],
      retries: { maxAttempts: 5, backoff: { initial: "2s", jitter: "equal" } },
      concurrency: { max: 4, key: "event.data.customerId", perKey: 1 },
      isolation: "process",
    } satisfies FunctionConfig;
    defineFunction(config, () => undefined);

    // @ts-expect-error triggers are required
    defineFunction({}, () => undefined);
    // @ts-expect-error a duration is a number or "<n>ms|s|m|h|d"
    defineFunction({ triggers: [], timeout: "5 minutes" }, () => undefined);
    // @ts-expect-error memoryMb is a number
    defineFunction({ triggers: [], memoryMb: "128" }, () => undefined);
    // @ts-expect-error isolation is "thread" or "process"
    defineFunction({ triggers: [], isolation: "vm" }, () => undefined);
    // @ts-expect-error jitter is "full", "equal" or "none"
    defineFunction({ triggers: [], retries: { backoff: { jitter: "some" } } }, () => undefined);
    // @ts-expect-error a pattern's leaves are arrays
    on.event({ type: "order.paid" });
  });

  it("gives an HTTP function the Request and the HTTP context", () => {
    defineFunction({ triggers: [on.http("GET /orders/:id", { public: true })] }, async (request, ctx) => {
      expectTypeOf(request).toEqualTypeOf<Request>();
      expectTypeOf(ctx).toEqualTypeOf<HttpContext>();
      expectTypeOf(ctx.params).toEqualTypeOf<Record<string, string>>();
      expectTypeOf(ctx.route).toEqualTypeOf<string>();
      expectTypeOf(ctx.requestId).toEqualTypeOf<string>();
      expectTypeOf(ctx).toExtend<FunctionContext>();
      return new Response("ok");
    });
  });

  it("lets an HTTP function answer with a Response or any JSON value", () => {
    defineFunction({ triggers: [on.http("GET /a")] }, () => new Response(null, { status: 204 }));
    defineFunction({ triggers: [on.http("GET /b")] }, async () => ({ id: "o-1" }));
    defineFunction({ triggers: [on.http("GET /c")] }, () => undefined);
  });

  it("refuses a Request handler on event triggers", () => {
    // @ts-expect-error an event function gets a CloudEvent, not a Request
    defineFunction({ triggers: [on.event({ type: ["x"] })] }, (request: Request) => request.url);
    // @ts-expect-error an event function's context has no route parameters
    defineFunction({ triggers: [on.queue("jobs")] }, (_event, ctx: HttpContext) => ctx.params);
  });
});

describe("defineBatchFunction", () => {
  it("gives the handler an array of events and lets it report failed items", () => {
    const fn = defineBatchFunction<{ n: number }>(
      { triggers: [on.queue("jobs", { batchSize: 10, batchWindow: "1s" })] },
      async (events, ctx) => {
        expectTypeOf(events).toEqualTypeOf<CloudEvent<{ n: number }>[]>();
        expectTypeOf(ctx).toEqualTypeOf<FunctionContext>();
        return {
          batchItemFailures: events.filter((e) => e.data?.n === 0).map((e) => ({ itemIdentifier: e.id })),
        };
      },
    );
    expectTypeOf(fn).toEqualTypeOf<EddyFunction<{ n: number }>>();
    expectTypeOf<ReturnType<Parameters<typeof defineBatchFunction>[1]>>().toEqualTypeOf<
      BatchResult | void | Promise<BatchResult | void>
    >();
  });

  it("refuses a result that is not a list of failed items", () => {
    // @ts-expect-error batchItemFailures lists { itemIdentifier }
    defineBatchFunction({ triggers: [on.queue("jobs")] }, () => ({ batchItemFailures: ["id-1"] }));
    // @ts-expect-error a batch handler gets an array, not one event
    defineBatchFunction({ triggers: [on.queue("jobs")] }, (event: CloudEvent) => void event.id);
  });
});
