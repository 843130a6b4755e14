/** A delivery as the admin view shows it. */
export interface DeliveryView {
  id: string;
  fn: string;
  state: "ready" | "leased";
  attempt: number;
  eventId: string;
  eventType: string;
  createdAt: number;
  /** Ready: when it is due. Leased: when the lease ends. */
  dueAt: number;
  /** Leased, on a cluster: the node that holds the lease. */
  node?: string;
  /** Leased by a node that stopped beating: taken over soon. */
  nodeLost?: boolean;
}

/** Parameters of `GET /v1/deliveries`. */
export interface DeliveriesParams {
  state: "leased" | "overdue";
  function?: string;
  /** Overdue: due more than this long ago. Default 30000. */
  overdueMs?: number;
  /** 1-1000, default 100. */
  limit?: number;
}

/** `GET /v1/deliveries` answer, oldest first. */
export interface DeliveriesResponse {
  deliveries: DeliveryView[];
}
