/** The shop's event payloads, shared by its functions. */
export interface OrderItem {
  sku: string;
  quantity: number;
  price: number;
}

/** `data` of order.placed and stock.reserved. */
export interface OrderPlaced {
  orderId: string;
  customer: string;
  items: OrderItem[];
}

/** `data` of order.paid. */
export interface OrderPaid {
  orderId: string;
  customer: string;
  total: number;
}
