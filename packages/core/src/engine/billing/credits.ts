import { TesseraError } from '../../errors.js';
import { requireLiveCustomer } from '../runtime/lookups.js';
import { Decimal } from '../../money.js';
import { noteCreditThresholds } from '../alerts/credit-alerts.js';
import { balanceAt, burnCredits, createGrant, expireCredits, planBurn, toCreditAmount, voidGrant, type CreditGrant, type LedgerEntry } from '../../rules/credits.js';
import { decideRecharge, monthWindow, validateRechargeConfig } from '../../rules/recharge.js';
import type { CreditGrantRecord, CustomerRecord, RechargeConfigRecord } from '../../records.js';
import { issueInvoice } from './billing.js';
import { assembleInvoice } from '../../rules/invoice.js';
import { write, type EngineContext, type WriteEffects } from '../runtime/context.js';
import { customerView } from '../checks/entitlements.js';
import { Params } from '../runtime/params.js';
import { grantsWithDueCycles, issueCycleCredits, withDueCycles } from './credit-cycles.js';

/** A credit grant as reads return it. */
export interface CreditGrantView {
  id: string;
  customerId: string;
  currencyId: string;
  category: 'PAID' | 'PROMOTIONAL';
  amount: string;
  remaining: string;
  priority: number;
  expiresAt: Date | null;
  voidedAt: Date | null;
  createdAt: Date;
  status: 'ACTIVE' | 'EXPIRED' | 'VOIDED' | 'DEPLETED';
}

function toGrantView(g: CreditGrantRecord, now: number): CreditGrantView {
  const status =
    g.voidedAt !== null ? 'VOIDED' : g.expiresAt !== null && now >= g.expiresAt ? 'EXPIRED' : new Decimal(g.remaining).isZero() ? 'DEPLETED' : 'ACTIVE';
  return {
    ...g,
    expiresAt: g.expiresAt === null ? null : new Date(g.expiresAt),
    voidedAt: g.voidedAt === null ? null : new Date(g.voidedAt),
    createdAt: new Date(g.createdAt),
    status,
  };
}

function requireCurrency(ctx: EngineContext, p: Params, key = 'currencyId'): string {
  const id = p.id(key);
  if (!ctx.latest().catalog.creditCurrencies.has(id)) p.fail(key, `no credit currency "${id}" in the catalog`);
  return id;
}

function requireCustomer(fx: WriteEffects, customerId: string, method: string): Promise<CustomerRecord> {
  return requireLiveCustomer(fx.tx, customerId, `${method}.customerId`);
}

const ledgerRows = (entries: LedgerEntry[]) => entries.map((e) => ({ ...e, reference: e.reference ?? null }));

/** Writes grants and their ledger entries, expiring what is due first so the ledger balances. */
async function saveCredits(fx: WriteEffects, before: readonly CreditGrantRecord[], after: readonly CreditGrant[], entries: LedgerEntry[]): Promise<void> {
  const old = new Map(before.map((g) => [g.id, g]));
  for (const g of after) {
    const o = old.get(g.id);
    if (!o || o.remaining !== g.remaining || o.voidedAt !== g.voidedAt) await fx.tx.putCreditGrant(g);
  }
  if (entries.length > 0) await fx.tx.appendCreditLedger(ledgerRows(entries));
}

/**
 * Loads a customer's grants of a currency with due cycle grants issued and due expiries
 * materialised (EXPIRE entries written). Cycles first: a rollover takes what the ending cycle's
 * grant held before its expiry is written (docs/credits.md#credits-on-a-cycle).
 */
async function liveGrants(ctx: EngineContext, fx: WriteEffects, customerId: string, currencyId: string): Promise<CreditGrantRecord[]> {
  await issueCycleCredits(ctx, fx, customerId, currencyId);
  const grants = await fx.tx.listCreditGrants(customerId, currencyId);
  const { grants: next, entries } = expireCredits(grants, fx.now);
  await saveCredits(fx, grants, next, entries);
  return next;
}

/** After commit: drop the customer's view (checks of credit-cost features read grants) and tell listeners. */
function noteCredits(fx: WriteEffects, customerId: string, currencyId: string, grants: readonly CreditGrant[]): void {
  fx.invalidate(customerId);
  fx.emit('creditBalanceUpdated', { customerId, currencyId, balance: balanceAt(grants, fx.now), at: new Date(fx.now) });
}

/**
 * Burns `amount` credits in burn order (docs/credits.md#burn-order), then tops up by automatic
 * recharge when the balance fell below the threshold. `partial`: burn what there is (reported
 * usage already happened); otherwise all or nothing. Returns what was burnt and the shortfall.
 */
export async function burnInTx(
  ctx: EngineContext,
  fx: WriteEffects,
  customer: CustomerRecord,
  currencyId: string,
  amount: Decimal,
  reference: string,
  partial: boolean,
): Promise<{ burnt: string; shortfall: string; covered: boolean }> {
  const grants = await liveGrants(ctx, fx, customer.customerId, currencyId);
  let take = amount;
  const plan = planBurn(grants, amount, fx.now);
  if (!plan.covered) {
    if (!partial) return { burnt: '0', shortfall: plan.shortfall, covered: false };
    take = new Decimal(balanceAt(grants, fx.now));
  }
  let after: CreditGrant[] = grants;
  if (take.gt(0)) {
    const result = burnCredits(grants, take, fx.now, reference);
    after = result.grants;
    await saveCredits(fx, grants, after, result.entries);
  }
  await fx.change('credits.updated', customer.customerId, currencyId, { burnt: take.toString(), reference });
  after = await rechargeInTx(ctx, fx, customer, currencyId, after);
  noteCredits(fx, customer.customerId, currencyId, after);
  await noteCreditThresholds(ctx, fx, customer.customerId, currencyId, balanceAt(grants, fx.now), balanceAt(after, fx.now));
  return { burnt: take.toString(), shortfall: amount.minus(take).toString(), covered: plan.covered };
}

/** Automatic recharge after a burn (docs/credits.md#automatic-recharge). */
async function rechargeInTx(ctx: EngineContext, fx: WriteEffects, customer: CustomerRecord, currencyId: string, grants: CreditGrant[]): Promise<CreditGrant[]> {
  const config = await fx.tx.getRechargeConfig(customer.customerId, currencyId);
  const unitPrice = ctx.latest().catalog.creditCurrencies.get(currencyId)?.unitPrice;
  if (!config || !config.isEnabled || !unitPrice) return grants;
  const month = monthWindow(fx.now);
  const spent = (await fx.tx.listInvoices({ customerId: customer.customerId }))
    .filter((i) => i.kind === 'RECHARGE' && i.createdAt >= month.start && i.createdAt < month.end && i.currency === unitPrice.currency)
    .reduce((a, i) => a.plus(i.subTotal), new Decimal(0));
  const decision = decideRecharge({ config: toRuleConfig(config), balance: balanceAt(grants, fx.now), unitPrice, spentThisMonth: spent, now: fx.now });
  if (!decision || decision.credits === '0') {
    if (decision?.limitedBySpend) await fx.change('credits.updated', customer.customerId, currencyId, { rechargeStoppedBySpendLimit: true });
    return grants;
  }
  const { grant, entry } = createGrant({
    id: ctx.newId('cg'),
    customerId: customer.customerId,
    currencyId,
    amount: decision.credits,
    category: 'PAID',
    expiresAt: decision.expiresAt,
    createdAt: fx.now,
    kind: 'RECHARGE',
    reference: 'automatic-recharge',
  });
  await fx.tx.putCreditGrant(grant);
  await fx.tx.appendCreditLedger(ledgerRows([entry]));
  const document = assembleInvoice({
    currency: unitPrice.currency,
    lines: [{ kind: 'PLAN', description: `${decision.credits} ${currencyId} credits (automatic recharge)`, currency: unitPrice.currency, amount: new Decimal(decision.cost.amount), quantity: Number(decision.credits) }],
  });
  await issueInvoice(ctx, fx, { sub: { id: null, customerId: customer.customerId }, kind: 'RECHARGE', dedupeKey: `recharge:${currencyId}:${grant.id}`, period: null, document });
  await fx.change('credits.updated', customer.customerId, currencyId, { recharged: decision.credits, cost: decision.cost.amount, limitedBySpend: decision.limitedBySpend });
  return [...grants, grant];
}

function toRuleConfig(r: RechargeConfigRecord) {
  return {
    customerId: r.customerId,
    currencyId: r.currencyId,
    isEnabled: r.isEnabled,
    thresholdType: r.thresholdType,
    thresholdValue: r.thresholdValue,
    targetBalance: r.targetBalance,
    ...(r.maxSpendLimit !== null ? { maxSpendLimit: r.maxSpendLimit } : {}),
    ...(r.grantExpirationPeriod !== null ? { grantExpirationPeriod: r.grantExpirationPeriod } : {}),
  };
}

/** `grantCredits`: adds a grant (PAID or PROMOTIONAL, priority, expiry). Idempotent per customer key. */
export async function grantCredits(ctx: EngineContext, params: unknown): Promise<CreditGrantView> {
  const p = new Params(params, 'grantCredits', ['customerId', 'currencyId', 'amount', 'category', 'expiresAt', 'priority', 'idempotencyKey']);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  if (!p.has('amount')) p.fail('amount', 'is required');
  const amount = toCreditAmount(p.raw.amount as string, 'grantCredits.amount');
  const category = p.optEnum('category', ['PAID', 'PROMOTIONAL'] as const) ?? 'PAID';
  const expiresAt = p.optInstant('expiresAt') ?? null;
  const priority = p.optNumber('priority', { min: 1, integer: true });
  const key = p.optId('idempotencyKey');
  return write(ctx, async (fx) => {
    await requireCustomer(fx, customerId, 'grantCredits');
    if (key !== undefined) {
      const again = await fx.tx.getIdempotency(`grantCredits:${customerId}`, key);
      if (again) return reviveGrant(again.result);
    }
    if (expiresAt !== null && expiresAt <= fx.now) p.fail('expiresAt', 'must be in the future');
    const { grant, entry } = createGrant({
      id: ctx.newId('cg'),
      customerId,
      currencyId,
      amount,
      category,
      expiresAt,
      createdAt: fx.now,
      ...(priority !== undefined ? { priority } : {}),
      ...(key !== undefined ? { reference: key } : {}),
    });
    await fx.tx.putCreditGrant(grant);
    await fx.tx.appendCreditLedger(ledgerRows([entry]));
    await fx.change('credits.updated', customerId, currencyId, { granted: grant.amount, grantId: grant.id });
    const grants = await fx.tx.listCreditGrants(customerId, currencyId);
    noteCredits(fx, customerId, currencyId, grants);
    const view = toGrantView(grant, fx.now);
    if (key !== undefined) await fx.tx.putIdempotency({ scope: `grantCredits:${customerId}`, key, result: { ...grant }, createdAt: fx.now });
    return view;
  });
}

function reviveGrant(v: unknown): CreditGrantView {
  const g = v as CreditGrantRecord;
  return toGrantView(g, g.createdAt);
}

/** `voidCreditGrant`: takes what is left of a grant away (a VOID ledger entry). Idempotent. */
export async function voidCreditGrant(ctx: EngineContext, params: unknown): Promise<CreditGrantView> {
  const p = new Params(params, 'voidCreditGrant', ['customerId', 'grantId']);
  const customerId = p.id('customerId');
  const grantId = p.id('grantId');
  return write(ctx, async (fx) => {
    await requireCustomer(fx, customerId, 'voidCreditGrant');
    const all = await fx.tx.listCreditGrants(customerId);
    const target = all.find((g) => g.id === grantId);
    if (!target) p.fail('grantId', `no credit grant "${grantId}" for customer "${customerId}"`);
    const grants = await liveGrants(ctx, fx, customerId, target!.currencyId);
    const { grants: next, entries } = voidGrant(grants, grantId, fx.now);
    await saveCredits(fx, grants, next, entries);
    await fx.change('credits.updated', customerId, target!.currencyId, { voided: grantId });
    noteCredits(fx, customerId, target!.currencyId, next);
    return toGrantView(next.find((g) => g.id === grantId) as CreditGrantRecord, fx.now);
  });
}

/** `consumeCredits`: burns credits all or nothing; throws USAGE_LIMIT_EXCEEDED (reason InsufficientCredits) when not covered. */
export async function consumeCredits(ctx: EngineContext, params: unknown): Promise<{ burnt: string; balance: string }> {
  const p = new Params(params, 'consumeCredits', ['customerId', 'currencyId', 'amount', 'idempotencyKey']);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  if (!p.has('amount')) p.fail('amount', 'is required');
  const amount = toCreditAmount(p.raw.amount as string, 'consumeCredits.amount');
  const key = p.optId('idempotencyKey');
  return write(ctx, async (fx) => {
    const customer = await requireCustomer(fx, customerId, 'consumeCredits');
    if (key !== undefined) {
      const again = await fx.tx.getIdempotency(`consumeCredits:${customerId}`, key);
      if (again) return again.result as { burnt: string; balance: string };
    }
    const r = await burnInTx(ctx, fx, customer, currencyId, amount, key ?? 'consumeCredits', false);
    if (!r.covered) {
      throw new TesseraError('USAGE_LIMIT_EXCEEDED', `consumeCredits.amount: ${amount} ${currencyId} credits requested, ${r.shortfall} short; grant credits or ask for less`, {
        field: 'amount',
        reason: 'InsufficientCredits',
        shortfall: r.shortfall,
      });
    }
    const result = { burnt: r.burnt, balance: balanceAt(await fx.tx.listCreditGrants(customerId, currencyId), fx.now) };
    if (key !== undefined) await fx.tx.putIdempotency({ scope: `consumeCredits:${customerId}`, key, result, createdAt: fx.now });
    return result;
  });
}

/** `getCreditGrants`: a customer's grants (of one currency when given), oldest first. */
export async function getCreditGrants(ctx: EngineContext, params: unknown): Promise<CreditGrantView[]> {
  const p = new Params(params, 'getCreditGrants', ['customerId', 'currencyId']);
  const customerId = p.id('customerId');
  const currencyId = p.has('currencyId') ? requireCurrency(ctx, p) : undefined;
  const now = ctx.clock.nowMs();
  const grants = await ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getCreditGrants.customerId');
    // Cycles due but not yet written read as issued (docs/credits.md#credits-on-a-cycle).
    return grantsWithDueCycles(ctx, tx, customerId, now, currencyId);
  });
  return grants.map((g) => toGrantView(g, now));
}

/** `getCreditBalance`: usable credits now (expired and voided grants excluded; no job needed). */
export async function getCreditBalance(ctx: EngineContext, params: unknown): Promise<{ customerId: string; currencyId: string; balance: string }> {
  const p = new Params(params, 'getCreditBalance', ['customerId', 'currencyId']);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  const grants = await getCreditGrants(ctx, { customerId, currencyId });
  const now = ctx.clock.nowMs();
  const raw = grants.map((g) => ({ ...g, expiresAt: g.expiresAt?.getTime() ?? null, voidedAt: g.voidedAt?.getTime() ?? null, createdAt: g.createdAt.getTime() }));
  return { customerId, currencyId, balance: balanceAt(raw, now) };
}

/** `getCreditLedger`: the double-entry history of a customer's credits in one currency, cursor-paged. */
export async function getCreditLedger(ctx: EngineContext, params: unknown) {
  const p = new Params(params, 'getCreditLedger', ['customerId', 'currencyId', 'first', 'after']);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  const first = Math.min(p.optNumber('first', { min: 1, integer: true }) ?? 100, 1000);
  const afterRaw = p.optId('after');
  // The cursor is a ledger sequence number in decimal; anything else (" 1", "0x10", "1e3") is crafted.
  const after = afterRaw === undefined ? 0 : /^\d{1,15}$/.test(afterRaw) ? Number(afterRaw) : NaN;
  if (!Number.isSafeInteger(after)) p.fail('after', 'must be an endCursor from an earlier page');
  const rows = await ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getCreditLedger.customerId');
    return tx.listCreditLedger({ customerId, currencyId, after, limit: Math.min(first, 1000) + 1 });
  });
  const page = rows.slice(0, first);
  return {
    data: page.map((e) => ({ ...e, at: new Date(e.at) })),
    pageInfo: { hasNextPage: rows.length > first, endCursor: page.length > 0 ? String(page[page.length - 1]!.seq) : null },
  };
}

/** `getCreditEntitlement`: the balance and whether it covers `requestedAmount` (never throws for a "no"). */
export async function getCreditEntitlement(ctx: EngineContext, params: unknown) {
  const p = new Params(params, 'getCreditEntitlement', ['customerId', 'currencyId', 'options']);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  const requested = p.optObject('options', ['requestedAmount'])?.optNumber('requestedAmount', { min: 0 }) ?? 0;
  const base = { customerId, currencyId, requestedAmount: requested, isFallback: false };
  const view = await customerView(ctx, customerId);
  if (!view.customer) return { ...base, hasAccess: false, balance: '0', accessDeniedReason: 'CustomerNotFound' as const };
  if (view.customer.archivedAt !== null) return { ...base, hasAccess: false, balance: '0', accessDeniedReason: 'CustomerIsArchived' as const };
  const now = ctx.clock.nowMs();
  // Cycles due but not yet written count, computed from the cached view (docs/credits.md#credits-on-a-cycle).
  const grants = withDueCycles(ctx, view.subscriptions, view.credits.filter((g) => g.currencyId === currencyId), customerId, now, currencyId);
  const balance = balanceAt(grants, now);
  // The same rule as checks of features that cost credits: nothing requested needs a positive balance.
  const ok = requested === 0 ? new Decimal(balance).gt(0) : new Decimal(balance).gte(requested);
  return ok ? { ...base, hasAccess: true, balance } : { ...base, hasAccess: false, balance, accessDeniedReason: 'InsufficientCredits' as const };
}

/** `saveAutomaticRechargeConfiguration`: validates and stores; applies from the next burn. */
export async function saveAutomaticRechargeConfiguration(ctx: EngineContext, params: unknown): Promise<RechargeConfiguration> {
  const p = new Params(params, 'saveAutomaticRechargeConfiguration', [
    'customerId',
    'currencyId',
    'isEnabled',
    'thresholdType',
    'thresholdValue',
    'targetBalance',
    'maxSpendLimit',
    'grantExpirationPeriod',
  ]);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  const unitPrice = ctx.latest().catalog.creditCurrencies.get(currencyId)!.unitPrice;
  if (!unitPrice) p.fail('currencyId', `credit currency "${currencyId}" has no unitPrice; automatic recharge needs one`);
  const str = (k: string) => {
    const v = p.raw[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') p.fail(k, 'must be a decimal string');
    return String(v);
  };
  const rec: RechargeConfigRecord = {
    customerId,
    currencyId,
    isEnabled: p.optBoolean('isEnabled') ?? p.fail('isEnabled', 'is required'),
    thresholdType: p.optEnum('thresholdType', ['CREDIT_AMOUNT', 'DOLLAR_AMOUNT'] as const) ?? p.fail('thresholdType', 'is required'),
    thresholdValue: str('thresholdValue') ?? p.fail('thresholdValue', 'is required'),
    targetBalance: str('targetBalance') ?? p.fail('targetBalance', 'is required'),
    maxSpendLimit: str('maxSpendLimit') ?? null,
    grantExpirationPeriod: p.optEnum('grantExpirationPeriod', ['ONE_MONTH', 'ONE_YEAR'] as const) ?? null,
    updatedAt: 0,
  };
  validateRechargeConfig(toRuleConfig(rec), unitPrice);
  return write(ctx, async (fx) => {
    await requireCustomer(fx, customerId, 'saveAutomaticRechargeConfiguration');
    rec.updatedAt = fx.now;
    await fx.tx.putRechargeConfig(rec);
    await fx.change('credits.updated', customerId, currencyId, { rechargeConfiguration: rec.isEnabled });
    return toRechargeView(rec);
  });
}

/** `getAutomaticRechargeConfiguration`: the stored settings, or null. */
export async function getAutomaticRechargeConfiguration(ctx: EngineContext, params: unknown): Promise<RechargeConfiguration | null> {
  const p = new Params(params, 'getAutomaticRechargeConfiguration', ['customerId', 'currencyId']);
  const customerId = p.id('customerId');
  const currencyId = requireCurrency(ctx, p);
  const rec = await ctx.store.transaction('read', async (tx) => {
    await requireLiveCustomer(tx, customerId, 'getAutomaticRechargeConfiguration.customerId');
    return tx.getRechargeConfig(customerId, currencyId);
  });
  return rec ? toRechargeView(rec) : null;
}

/** Automatic recharge settings as reads return them. */
export type RechargeConfiguration = Omit<RechargeConfigRecord, 'updatedAt'> & { updatedAt: Date };

function toRechargeView(r: RechargeConfigRecord): RechargeConfiguration {
  return { ...r, updatedAt: new Date(r.updatedAt) };
}

/**
 * What `tick()` does for a customer's credits: issues the cycle grants due
 * (docs/credits.md#credits-on-a-cycle), writes due expiries to the ledger and recharges a balance
 * that expiry took below the threshold (docs/credits.md#automatic-recharge). Returns how many
 * currencies it wrote for (one more when cycles were issued).
 */
export async function maintainCredits(ctx: EngineContext, fx: WriteEffects, customer: CustomerRecord): Promise<number> {
  let written = (await issueCycleCredits(ctx, fx, customer.customerId)) > 0 ? 1 : 0;
  for (const currencyId of ctx.latest().catalog.creditCurrencies.keys()) {
    const before = await fx.tx.listCreditGrants(customer.customerId, currencyId);
    const config = await fx.tx.getRechargeConfig(customer.customerId, currencyId);
    if (before.length === 0 && !config?.isEnabled) continue;
    const grants = await liveGrants(ctx, fx, customer.customerId, currencyId);
    const after = await rechargeInTx(ctx, fx, customer, currencyId, grants);
    const changed = grants.some((g, i) => g.remaining !== before[i]?.remaining) || after.length !== grants.length;
    if (changed) {
      written++;
      await fx.change('credits.updated', customer.customerId, currencyId, { tick: true });
      noteCredits(fx, customer.customerId, currencyId, after);
    }
  }
  return written;
}
