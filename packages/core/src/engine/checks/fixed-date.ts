/**
 * A Date whose setters throw a TypeError. A warm METERED check returns the window's bounds as
 * Dates made once per window and shared by every result in it (allocating two Dates per check
 * cost about a sixth of the check); a shared Date must not be changed by one caller under
 * another, so it cannot be (docs/conventions.md#check-results). Reads, comparisons, `instanceof
 * Date`, JSON and structuredClone behave as for any Date.
 */
export class FixedDate extends Date {}

for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith('set')) continue;
  Object.defineProperty(FixedDate.prototype, name, {
    value(): never {
      throw new TypeError(`Date.prototype.${name}: this Date is shared by entitlement results and is read-only; copy it first (new Date(d))`);
    },
    writable: false,
    enumerable: false,
    configurable: false,
  });
}
