/**
 * Credit balance alerts (docs/alerts.md#credit-balances): `creditBalanceLow` when a write takes a
 * balance from at or above a threshold of its currency to below it. The crossing itself makes it
 * once per fall: to cross again the balance must first rise to the threshold (a grant, a
 * recharge), and write transactions are serializable, across processes too, so two writers never
 * see the same fall.
 */
import type { CreditBalanceLowEvent } from '../../events.js';
import { crossedBalances } from '../../rules/alerts.js';
import type { EngineContext, WriteEffects } from '../runtime/context.js';
import { enqueueWebhook } from './webhooks.js';

/** Announces the thresholds of `currencyId` that the balance fell below (`before` -> `after`, decimal strings). */
export async function noteCreditThresholds(ctx: EngineContext, fx: WriteEffects, customerId: string, currencyId: string, before: string, after: string): Promise<void> {
  const thresholds = ctx.latest().catalog.creditCurrencies.get(currencyId)?.alerts?.balanceBelow;
  if (!thresholds) return;
  for (const threshold of crossedBalances(thresholds, before, after)) {
    const event: CreditBalanceLowEvent = { id: ctx.newId('evt'), customerId, currencyId, threshold, balance: after, at: new Date(fx.now) };
    fx.emit('creditBalanceLow', event);
    await enqueueWebhook(ctx, fx, { id: event.id, customerId, type: 'credit.balance_low', data: { ...event, at: event.at.toISOString() } });
  }
}
