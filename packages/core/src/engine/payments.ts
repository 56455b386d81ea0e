/**
 * Where payment is collected (none by default). With a provider configured, a paid subscription
 * for a customer without a payment method starts PAYMENT_PENDING, grants nothing, and the result
 * carries the provider's checkout URL until `engine.confirmPayment` is called (typically from the
 * provider's webhook).
 */
export interface PaymentProvider {
  /** Starts a checkout for a subscription; returns where to send the customer. */
  createCheckout(input: {
    customerId: string;
    subscriptionId: string;
    planId: string;
    amount: string;
    currency: string;
    options?: Record<string, unknown>;
  }): Promise<{ checkoutUrl: string }> | { checkoutUrl: string };
}

/** A provider for tests and demos: records each checkout and answers a deterministic URL. */
export function testPaymentProvider(baseUrl = 'https://checkout.example.test'): PaymentProvider & {
  checkouts: { customerId: string; subscriptionId: string; amount: string; currency: string }[];
} {
  const checkouts: { customerId: string; subscriptionId: string; amount: string; currency: string }[] = [];
  return {
    checkouts,
    createCheckout(input) {
      checkouts.push({ customerId: input.customerId, subscriptionId: input.subscriptionId, amount: input.amount, currency: input.currency });
      return { checkoutUrl: `${baseUrl}/${encodeURIComponent(input.subscriptionId)}` };
    },
  };
}
