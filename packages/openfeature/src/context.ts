import { InvalidContextError, TargetingKeyMissingError, type EvaluationContext } from '@openfeature/server-sdk';
import type { CheckParams } from './source.js';

/**
 * The check an evaluation asks for: the flag key as the feature id, `targetingKey` as the customer
 * id, and the optional `resourceId`, `requestedUsage` and `requestedValues` of the context
 * (README.md#the-evaluation-context). Throws TargetingKeyMissingError without a targeting key and
 * InvalidContextError for a context field of the wrong type; the engine checks the rest (lengths,
 * ranges) and its INVALID_ARGUMENT becomes INVALID_CONTEXT too.
 */
export function checkParams(flagKey: string, context: EvaluationContext): CheckParams {
  const customerId = context.targetingKey;
  if (customerId === undefined || customerId === '') {
    throw new TargetingKeyMissingError(`the evaluation context needs a targetingKey (the Tessera customer id) to evaluate "${flagKey}"`);
  }
  if (typeof customerId !== 'string') throw new InvalidContextError(`targetingKey must be a string (the customer id), got ${describe(customerId)}`);
  const params: CheckParams = { customerId, featureId: flagKey };

  const resourceId = context.resourceId;
  if (resourceId !== undefined && resourceId !== null) {
    if (typeof resourceId !== 'string') throw new InvalidContextError(`resourceId must be a string, got ${describe(resourceId)}`);
    params.resourceId = resourceId;
  }

  const requestedUsage = context.requestedUsage;
  const requestedValues = context.requestedValues;
  if (requestedUsage !== undefined && requestedUsage !== null) {
    if (typeof requestedUsage !== 'number') throw new InvalidContextError(`requestedUsage must be a number, got ${describe(requestedUsage)}`);
    params.options = { requestedUsage };
  }
  if (requestedValues !== undefined && requestedValues !== null) {
    // One value may be given alone: { requestedValues: 'parquet' }.
    const values = typeof requestedValues === 'string' ? [requestedValues] : requestedValues;
    if (!Array.isArray(values) || !values.every((v): v is string => typeof v === 'string')) {
      const bad = Array.isArray(values) ? `an array holding ${describe(values.find((v) => typeof v !== 'string'))}` : describe(requestedValues);
      throw new InvalidContextError(`requestedValues must be a string or an array of strings, got ${bad}`);
    }
    params.options = { ...params.options, requestedValues: values };
  }
  return params;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
