/** Lambda compatibility for HTTP routes: API Gateway's HTTP API events (payload 2.0) and results. */
import type { ApiGatewayProxyEventV2 } from "eddy";
import type { HttpRequestData, HttpResponseData } from "../protocol.js";

/** The request as API Gateway's HTTP API would hand it to a Lambda. */
export function toApiGatewayEvent(r: HttpRequestData): ApiGatewayProxyEventV2 {
  const url = new URL(r.url);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [k, v] of r.headers) {
    const name = k.toLowerCase();
    if (name === "cookie") cookies.push(...v.split(/;\s*/).filter(Boolean));
    else headers[name] = headers[name] === undefined ? v : `${headers[name]},${v}`;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const [method, path] = r.route.split(" ") as [string, string];
  const routeKey = `${method === "ANY" ? "ANY" : method} ${path.replace(/:([A-Za-z_]\w*)/g, "{$1}").replace(/\*$/, "{proxy+}")}`;
  const now = new Date();
  const event: ApiGatewayProxyEventV2 = {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "eddy",
      domainName: url.host,
      domainPrefix: url.hostname.split(".")[0] ?? url.hostname,
      http: {
        method: r.method,
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: r.clientIp ?? "",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: r.requestId,
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: r.bodyEncoding === "base64",
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  const params = { ...r.params };
  if ("*" in params) {
    params.proxy = params["*"]!;
    delete params["*"];
  }
  if (Object.keys(params).length > 0) event.pathParameters = params;
  if (r.body !== undefined) event.body = r.body;
  return event;
}

/**
 * A handler's result as API Gateway reads it: `{ statusCode, headers, multiValueHeaders, cookies,
 * body, isBase64Encoded }`, or, without a `statusCode`, any value sent as a 200 JSON body.
 */
export function fromApiGatewayResult(out: unknown): HttpResponseData {
  const r = out as { statusCode?: unknown } | null | undefined;
  if (typeof r !== "object" || r === null || typeof r.statusCode !== "number") {
    if (out === undefined) return { status: 204, headers: [] };
    const body = typeof out === "string" ? out : JSON.stringify(out);
    return { status: 200, headers: [["content-type", "application/json"]], body };
  }
  const res = out as {
    statusCode: number;
    headers?: Record<string, unknown>;
    multiValueHeaders?: Record<string, unknown[]>;
    cookies?: string[];
    body?: unknown;
    isBase64Encoded?: boolean;
  };
  const headers: [string, string][] = [];
  for (const [k, v] of Object.entries(res.headers ?? {})) headers.push([k, String(v)]);
  for (const [k, list] of Object.entries(res.multiValueHeaders ?? {})) {
    for (const v of list) headers.push([k, String(v)]);
  }
  for (const c of res.cookies ?? []) headers.push(["set-cookie", c]);
  const data: HttpResponseData = { status: res.statusCode, headers };
  if (res.body !== undefined && res.body !== null) {
    data.body = typeof res.body === "string" ? res.body : JSON.stringify(res.body);
    if (res.isBase64Encoded) data.bodyEncoding = "base64";
  }
  return data;
}
