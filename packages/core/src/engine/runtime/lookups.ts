import { TesseraError } from '../../errors.js';
import type { CustomerRecord } from '../../records.js';
import type { StoreTx } from '../../store/store.js';

/** CUSTOMER_NOT_FOUND for `customerId`; `where` prefixes the message, `field` goes in the details. */
export function customerNotFound(customerId: string, where: string, field = 'customerId'): TesseraError {
  return new TesseraError('CUSTOMER_NOT_FOUND', `${where}: no customer "${customerId}"; provision it first`, { field, value: customerId });
}

/** Whether a customer record exists and is not archived (archived customers read as not found). */
export function isLive(customer: CustomerRecord | undefined): customer is CustomerRecord {
  return customer !== undefined && customer.archivedAt === null;
}

/** The customer, read in `tx`; throws CUSTOMER_NOT_FOUND for unknown and archived ones. */
export async function requireLiveCustomer(tx: StoreTx, customerId: string, where: string, field = 'customerId'): Promise<CustomerRecord> {
  const c = await tx.getCustomer(customerId);
  if (!isLive(c)) throw customerNotFound(customerId, where, field);
  return c;
}
