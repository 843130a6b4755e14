import { EddyRequestError } from "eddy";
import { getApi } from "../options.js";

/** A deployed function as `GET /v1/functions/NAME` shows it (the part the commands read). */
export interface FunctionSummary {
  name: string;
  triggers: { kind: string; queue?: string }[];
}

/** The deployed function named `name`, or undefined when none is (404). */
export async function deployedFunction(
  url: string,
  key: string | undefined,
  name: string,
): Promise<FunctionSummary | undefined> {
  try {
    return await getApi<FunctionSummary>(url, key, `/v1/functions/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof EddyRequestError && err.status === 404) return undefined;
    throw err;
  }
}
