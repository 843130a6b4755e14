// Type tests of EddyClient: every call's parameters and result are the HTTP API's wire types.
import { describe, expectTypeOf, it } from "vitest";
import {
  EddyClient,
  type EddyRequestError,
  type DeadLetterDetail,
  type DeadLettersResponse,
  type DeployChange,
  type FunctionInfo,
  type Invocation,
  type Problem,
  type ReceivedMessageView,
  type SendResult,
} from "eddy";

const client = new EddyClient({ url: "http://127.0.0.1:8080", apiKey: "k", source: "/tests" });

describe("EddyClient", () => {
  it("sends events and reports each one's outcome", () => {
    expectTypeOf(client.send({ type: "order.placed", data: { id: 1 } })).resolves.toEqualTypeOf<
      SendResult[]
    >();
    expectTypeOf(client.send([{ type: "a" }, { type: "b", id: "b-1" }])).resolves.toEqualTypeOf<
      SendResult[]
    >();
    expectTypeOf<SendResult["status"]>().toEqualTypeOf<"accepted" | "duplicate" | "rejected">();
    // @ts-expect-error an event needs a type
    void client.send({ data: 1 });
  });

  it("lists functions and invocations as the API shows them", () => {
    expectTypeOf(client.functions()).resolves.toEqualTypeOf<FunctionInfo[]>();
    expectTypeOf(client.invocations("send-receipt", 10)).resolves.toEqualTypeOf<Invocation[]>();
    expectTypeOf<Invocation["status"]>().toEqualTypeOf<"succeeded" | "failed" | "skipped">();
    expectTypeOf<FunctionInfo["pool"]["coldStarts"]["count"]>().toEqualTypeOf<number>();
  });

  it("pages, inspects, redrives and purges dead letters", () => {
    expectTypeOf(
      client.deadLetters("fn", { limit: 10, after: "d-1", queue: false }),
    ).resolves.toEqualTypeOf<DeadLettersResponse>();
    expectTypeOf(
      client.deadLetter("jobs", "d-1", { queue: true }),
    ).resolves.toEqualTypeOf<DeadLetterDetail>();
    expectTypeOf(client.redrive("fn", { errorName: "TypeError" })).resolves.toEqualTypeOf<number>();
    expectTypeOf(client.purge("fn", { all: true })).resolves.toEqualTypeOf<number>();
    // @ts-expect-error limit is a number
    void client.deadLetters("fn", { limit: "10" });
    // @ts-expect-error ids are strings
    void client.redrive("fn", { ids: [1, 2] });
  });

  it("sends, receives and deletes queue messages", () => {
    expectTypeOf(client.sendMessage("jobs", { n: 1 }, { delay: "5s" })).resolves.toEqualTypeOf<string>();
    expectTypeOf(client.receiveMessages("jobs", { max: 10, wait: "2s" })).resolves.toEqualTypeOf<
      ReceivedMessageView[]
    >();
    expectTypeOf(client.deleteMessage("jobs", "receipt")).resolves.toEqualTypeOf<void>();
    // @ts-expect-error the body is the message's only required part; options have no "priority"
    void client.sendMessage("jobs", {}, { priority: 1 });
  });

  it("deploys and rolls back", () => {
    expectTypeOf(client.deploy([{ file: "functions/a.ts", code: "" }])).resolves.toEqualTypeOf<
      DeployChange[]
    >();
    expectTypeOf(client.rollback("a", "0123456789abcdef")).resolves.toEqualTypeOf<DeployChange>();
    // @ts-expect-error a bundle has its file and its code
    void client.deploy([{ file: "functions/a.ts" }]);
  });

  it("refuses with the problem document", () => {
    expectTypeOf<EddyRequestError["problem"]>().toEqualTypeOf<Problem | undefined>();
    expectTypeOf<EddyRequestError["status"]>().toEqualTypeOf<number>();
  });
});
