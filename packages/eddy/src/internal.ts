/**
 * `eddy/internal`: what the server, the CLI and the tests share with the SDK and function code
 * must not rely on (no compatibility promise). The SDK's API is `eddy` (docs/sdk.md lists it).
 */
export { isRfc3339 } from "./cloudevents.js";
export { parseDuration } from "./duration.js";
export { isEddyFunction, resolveFunctionConfig } from "./function.js";
export { RESERVED_PATHS } from "./triggers/http-route.js";
export { uuidv7 } from "./ids.js";
export { PATTERN_LIMITS } from "./patterns/limits.js";
export { patternComplexity } from "./patterns/validate.js";
export { checkResolvedConfig } from "./resolved-config.js";
export { checkQueueName } from "./triggers/index.js";
export type { Query, Unchecked } from "./wire/incoming.js";
export { TRIGGER_KINDS } from "./triggers/index.js";
export { RUN_STATUSES } from "./run-statuses.js";
