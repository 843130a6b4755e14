import type { AsyncRequestStatus } from "eddy";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Logger } from "../observability/logger.js";
import type { CallbackTargets } from "./callback-target.js";
import { CallbackNotAllowedError } from "../errors/http.js";

/** Delays before each try of a callback. */
const DELAYS = [0, 1_000, 5_000];
const TIMEOUT_MS = 5_000;

/**
 * POSTs an async request's status document to its callback URL: best effort, three tries over
 * about 6 s. Only to targets the policy allows, checked on the address the socket connects to;
 * redirects are not followed (a 3xx is a failure, not retried), since a redirect could point
 * anywhere.
 */
export async function sendCallback(
  url: string,
  doc: AsyncRequestStatus,
  targets: CallbackTargets,
  log: Logger,
): Promise<void> {
  const refused = targets.refuseUrl(url);
  if (refused) return void log.warn({ url, request: doc.id }, `async request callback refused: ${refused}`);
  let last: unknown;
  for (const delay of DELAYS) {
    if (delay) await new Promise((r) => setTimeout(r, delay).unref());
    try {
      const status = await post(url, JSON.stringify(doc), String(doc.id), targets);
      if (status >= 200 && status < 300) return;
      if (status >= 300 && status < 400) {
        return void log.warn(
          { url, request: doc.id, status },
          "async request callback answered a redirect, which is not followed; the status URL has the result",
        );
      }
      last = `HTTP ${status}`;
    } catch (err) {
      if (err instanceof CallbackNotAllowedError) {
        return void log.warn({ url, request: doc.id }, `async request callback refused: ${err.message}`);
      }
      last = err;
    }
  }
  log.warn(
    { url, request: doc.id, err: last },
    "async request callback failed three times; the status URL has the result",
  );
}

function post(url: string, body: string, requestId: string, targets: CallbackTargets): Promise<number> {
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "eddy-request-id": requestId,
        },
        lookup: targets.lookup,
        timeout: TIMEOUT_MS,
        agent: false,
      },
      (res) => {
        res.resume(); // the answer's body is not read
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on("error", (err) => reject(unwrap(err)));
    req.end(body);
  });
}

/** A refusal from the lookup reaches the request wrapped by net; give back the refusal itself. */
function unwrap(err: Error): Error {
  return err instanceof CallbackNotAllowedError || !(err.cause instanceof CallbackNotAllowedError)
    ? err
    : err.cause;
}
