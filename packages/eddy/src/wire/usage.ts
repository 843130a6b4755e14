/** Prices of compute and requests. */
export interface Pricing {
  /** Per GB-second of billed duration × memory. */
  perGbSecond: number;
  /** Per million invocations. */
  perMillionRequests: number;
  currency: string;
}

/** Usage and cost of one function (`fn: "*"`: the total). */
export interface UsageLine {
  fn: string;
  invocations: number;
  billedMs: number;
  /** Σ billed seconds × memory GB. */
  gbSeconds: number;
  cost: number;
}

/** Parameters of `GET /v1/usage`: times are "24h" (ago), an ISO 8601 date, or epoch ms. */
export interface UsageParams {
  /** Default "30d". */
  since?: string;
  /** Default now. */
  until?: string;
  function?: string;
}

/** `GET /v1/usage` answer. */
export interface UsageResponse {
  /** ISO 8601. */
  since: string;
  until: string;
  pricing: Pricing;
  total: UsageLine;
  functions: UsageLine[];
}
