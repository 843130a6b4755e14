/** `deliveries.state` values; see schema.ts. */
export const READY = 0;
export const LEASED = 1;
export const DEAD = 2;
