// Lambda handlers written for API Gateway's HTTP API (payload 2.0) run unchanged behind on.http.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp } from "./helpers.js";

const app = tempApp({
  "functions/orders.js": `import { on } from "eddy";
export const config = { compat: "aws", name: "orders", triggers: [on.http("POST /orders/:id", { public: true })] };
export const handler = async (event, context) => ({
  statusCode: 201,
  headers: { "content-type": "application/json", "x-request": context.awsRequestId },
  cookies: ["session=abc; Path=/"],
  body: JSON.stringify({
    routeKey: event.routeKey, rawPath: event.rawPath, rawQueryString: event.rawQueryString,
    pathParameters: event.pathParameters, queryStringParameters: event.queryStringParameters,
    cookies: event.cookies, header: event.headers["x-thing"], method: event.requestContext.http.method,
    sourceIp: event.requestContext.http.sourceIp, stage: event.requestContext.stage,
    body: JSON.parse(event.body), isBase64Encoded: event.isBase64Encoded,
  }),
});`,
  "functions/plain.js": `import { on } from "eddy";
export const config = { compat: "aws", name: "plain", triggers: [on.http("GET /plain", { public: true })] };
export function handler(event, context, callback) { callback(null, { hello: "lambda" }); }`,
  "functions/binary.js": `import { on } from "eddy";
export const config = { compat: "aws", name: "binary", triggers: [on.http("POST /echo", { public: true })] };
export const handler = async (event) => ({ statusCode: 200, headers: { "content-type": "application/octet-stream" }, body: event.body, isBase64Encoded: event.isBase64Encoded });`,
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

it("hands a Lambda handler API Gateway's event and sends its result", async () => {
  expect(eddy.failures).toEqual([]);
  const res = await fetch(`${eddy.url}/orders/42?a=1&a=2&b=x`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-thing": "yes", cookie: "c1=1; c2=2" },
    body: JSON.stringify({ qty: 3 }),
  });
  expect(res.status).toBe(201);
  expect(res.headers.get("set-cookie")).toBe("session=abc; Path=/");
  expect(res.headers.get("x-request")).toBe(res.headers.get("eddy-request-id"));
  expect(await res.json()).toEqual({
    routeKey: "POST /orders/{id}",
    rawPath: "/orders/42",
    rawQueryString: "a=1&a=2&b=x",
    pathParameters: { id: "42" },
    queryStringParameters: { a: "1,2", b: "x" },
    cookies: ["c1=1", "c2=2"],
    header: "yes",
    method: "POST",
    sourceIp: "127.0.0.1",
    stage: "$default",
    body: { qty: 3 },
    isBase64Encoded: false,
  });
});

it("sends a result without statusCode as a 200 JSON body, and carries bytes both ways", async () => {
  const plain = await fetch(`${eddy.url}/plain`);
  expect([plain.status, await plain.json()]).toEqual([200, { hello: "lambda" }]);
  const bytes = Buffer.from([0, 255, 7, 128]);
  const echo = await fetch(`${eddy.url}/echo`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: bytes,
  });
  expect([...Buffer.from(await echo.arrayBuffer())]).toEqual([...bytes]);
});
