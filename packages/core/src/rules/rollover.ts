// Rollover of unused usage allowance (docs/rollovers.md): the ledger of carried amounts, window by
// window. Pure: windows, limits and usage are given; nothing reads the clock.
import type { RolloverDefinition } from '../catalog/types.js';
import { usageWindow, type WindowSpec } from './windows.js';

/** An amount carried out of a window, usable until `expiresAt` (epoch ms, the end of its last window). */
export interface RolloverChunk {
  amount: number;
  expiresAt: number;
}

/**
 * One closed usage window as the ledger reads it: its base limit and recorded usage, and the
 * rollover settings of the entitlement in force at its last instant (null: none, so nothing carries
 * out of it and what it carried in expires at its end: docs/rollovers.md#plan-changes).
 */
export interface RolloverWindowInput {
  start: number;
  end: number;
  /** The base usage limit of the window (units). */
  limit: number;
  /** The usage recorded in the window (units). */
  used: number;
  rollover: RolloverDefinition | null;
}

/** What the ledger did in one window. `carriedIn + added = burnt + expired + carriedOut` (sums of amounts). */
export interface RolloverWindowLedger {
  start: number;
  end: number;
  /** The chunks usable in the window, soonest-expiring first. */
  carriedIn: RolloverChunk[];
  /** Carried units the window's usage burnt (usage burns carried units before the base limit). */
  burnt: number;
  /** Carried units that expired at the window's end (their last window, a plan change, or a lower `max`). */
  expired: number;
  /** The window's unused base allowance carried out (after the `max` cap); 0 when none. */
  added: number;
  /** The chunks usable in the next window, soonest-expiring first. */
  carriedOut: RolloverChunk[];
}

/** Where the carried balance of the current window stands. */
export interface RolloverStanding {
  /** Units carried into the window. */
  balance: number;
  /** Of those, units the window's usage has burnt (usage burns them first). */
  used: number;
  /** balance - used. */
  remaining: number;
  /** What is left, by expiry, soonest first (units, epoch ms). */
  expiries: RolloverChunk[];
}

/** The end of the `n`-th window after the one ending at `end` (n >= 1): when a chunk made at `end` expires. */
export function rolloverExpiry(spec: WindowSpec, end: number, n: number): number {
  let at = end;
  for (let i = 0; i < n; i++) at = usageWindow(spec, at).end;
  return at;
}

/** Burns `units` from `chunks` (soonest-expiring first) and returns what is left; never below 0. */
function burn(chunks: readonly RolloverChunk[], units: number): { left: RolloverChunk[]; burnt: number } {
  const left: RolloverChunk[] = [];
  let rest = units;
  let burnt = 0;
  for (const c of chunks) {
    const take = Math.min(rest, c.amount);
    rest -= take;
    burnt += take;
    if (c.amount - take > 0) left.push({ amount: c.amount - take, expiresAt: c.expiresAt });
  }
  return { left, burnt };
}

const sum = (chunks: readonly RolloverChunk[]): number => chunks.reduce((s, c) => s + c.amount, 0);

/**
 * The rollover ledger over consecutive closed windows (oldest first), entering the first with
 * `carriedIn` (default nothing): in each window, usage burns the carried chunks first,
 * soonest-expiring first, then the base limit; at its end the chunks whose last window it was
 * expire, the unused base allowance (`limit` minus the base units used, never below 0) is carried
 * out, clipped so the carried balance stays within `max` (a lower `max` expires the excess,
 * soonest-expiring first), and expires after `expiresAfter` windows. A window with no rollover
 * settings carries nothing out. docs/rollovers.md#the-ledger.
 * Example: 100 a month, max 50, expiresAfter 2: month 1 uses 30 (70 unused: 50 carried); month 2
 * uses 120 (50 burnt from the rollover, 70 from the base: 30 carried).
 */
export function rolloverLedger(spec: WindowSpec, windows: readonly RolloverWindowInput[], carriedIn: readonly RolloverChunk[] = []): RolloverWindowLedger[] {
  const out: RolloverWindowLedger[] = [];
  let chunks: RolloverChunk[] = [...carriedIn];
  for (const w of windows) {
    const into = chunks;
    const { left, burnt } = burn(into, w.used);
    const baseUsed = w.used - burnt;
    let expired = 0;
    let kept: RolloverChunk[] = [];
    for (const c of left) {
      if (w.rollover === null || c.expiresAt <= w.end) expired += c.amount;
      else kept.push(c);
    }
    let added = 0;
    if (w.rollover !== null) {
      // A lower max (a plan change) expires the excess, soonest-expiring first.
      const over = sum(kept) - w.rollover.max;
      if (over > 0) {
        const cut = burn(kept, over);
        kept = cut.left;
        expired += cut.burnt;
      }
      added = Math.min(Math.max(0, w.limit - baseUsed), w.rollover.max - sum(kept));
      if (added > 0) kept.push({ amount: added, expiresAt: rolloverExpiry(spec, w.end, w.rollover.expiresAfter) });
      else added = 0;
    }
    // Chunks made later expire no sooner (expiresAfter may differ across a plan change): keep the order.
    kept.sort((a, b) => a.expiresAt - b.expiresAt);
    out.push({ start: w.start, end: w.end, carriedIn: into, burnt, expired, added, carriedOut: kept });
    chunks = kept;
  }
  return out;
}

/**
 * Where the carried chunks `carriedIn` of a window stand after `used` units of usage in it (usage
 * burns them first, soonest-expiring first). `used` includes held quota when the caller counts it.
 */
export function rolloverStanding(carriedIn: readonly RolloverChunk[], used: number): RolloverStanding {
  const balance = sum(carriedIn);
  const { left, burnt } = burn(carriedIn, Math.max(0, used));
  return { balance, used: burnt, remaining: balance - burnt, expiries: left };
}

/** The carried balance of `carriedIn` (units). */
export function rolloverBalance(carriedIn: readonly RolloverChunk[] | undefined): number {
  return carriedIn === undefined ? 0 : sum(carriedIn);
}
