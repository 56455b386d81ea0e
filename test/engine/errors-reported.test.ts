import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEngine, memoryStore, testClock, type EngineErrorEvent, type Logger, type Store } from '@tessera/core';
import { demoCatalog } from '../../packages/core/examples/demo-catalog.js';

/** A logger that records what it is told, by level. */
function recordingLogger(): Logger & { lines: { level: string; context: Record<string, unknown>; message: string | undefined }[] } {
  const lines: { level: string; context: Record<string, unknown>; message: string | undefined }[] = [];
  const at = (level: string) => (context: Record<string, unknown>, message?: string) => void lines.push({ level, context, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('no failure silent', () => {
  it('runs every listener when one throws, and reports the throw to the error event and the logger', async () => {
    const logger = recordingLogger();
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), logger });
    const heard: string[] = [];
    const errors: EngineErrorEvent[] = [];
    engine.on('usageUpdated', () => {
      throw new Error('listener one broke');
    });
    engine.on('usageUpdated', (u) => heard.push(u.featureId));
    engine.on('error', (e) => errors.push(e));
    await engine.provisionCustomer({ customerId: 'c1' });
    const result = await engine.reportUsage({ customerId: 'c1', featureId: 'api-calls', value: 3 });
    expect(result.currentUsage).toBe(3);
    expect(heard).toEqual(['api-calls']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'listener', method: 'usageUpdated listener' });
    expect((errors[0]!.error as Error).message).toBe('listener one broke');
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(logger.lines[0]!.context).toMatchObject({ source: 'listener', method: 'usageUpdated listener' });
    await engine.close();
  });

  it('logs an error listener that throws once, without reporting it again', async () => {
    const logger = recordingLogger();
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z'), logger });
    let thrown = false;
    engine.on('entitlementsUpdated', () => {
      if (thrown) return;
      thrown = true;
      throw new Error('first');
    });
    engine.on('error', () => {
      throw new Error('the error listener broke too');
    });
    await engine.provisionCustomer({ customerId: 'c1' });
    const messages = logger.lines.map((l) => l.message);
    // The listener's throw is logged by the reporter, the error listener's throw by the emitter: two lines, no loop.
    expect(messages.filter((m) => m?.includes('entitlementsUpdated listener'))).toHaveLength(1);
    expect(messages.filter((m) => m === 'tessera: an error listener threw')).toHaveLength(1);
    await engine.close();
  });

  it('refuses a handler that is not a function and an unknown event name', async () => {
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog });
    expect(() => engine.on('usageUpdated', null as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ field: 'handler' }) }));
    expect(() => engine.addListener('usageUpdated', 'f' as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => engine.on('usageUpdate' as never, () => {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ field: 'event' }) }));
    await engine.close();
  });

  it('refuses a logger without the four methods', async () => {
    await expect(createEngine({ store: memoryStore(), catalog: demoCatalog, logger: { error() {} } as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('logger') });
  });

  it('reports a billing provider that rejects or throws, with the customer, and keeps the invoice', async () => {
    const logger = recordingLogger();
    let calls = 0;
    const engine = await createEngine({
      store: memoryStore(),
      catalog: demoCatalog,
      clock: testClock('2024-01-10T00:00:00Z'),
      logger,
      billingProvider: {
        onInvoiceCreated: (invoice) => {
          calls++;
          if (invoice.customerId === 'sync') throw new Error('provider threw');
          return Promise.reject(new Error('provider down'));
        },
      },
    });
    const errors: EngineErrorEvent[] = [];
    engine.on('error', (e) => errors.push(e));
    for (const customerId of ['async', 'sync']) {
      await engine.provisionCustomer({ customerId });
      await engine.provisionSubscription({ customerId, planId: 'basic', billingPeriod: 'MONTHLY' });
    }
    await vi.waitFor(() => expect(errors).toHaveLength(2));
    expect(calls).toBe(2);
    expect(errors.map((e) => [e.source, e.method, e.customerId, (e.error as Error).message])).toEqual([
      ['billingProvider', 'onInvoiceCreated', 'async', 'provider down'],
      ['billingProvider', 'onInvoiceCreated', 'sync', 'provider threw'],
    ]);
    expect((await engine.getInvoices({ customerId: 'sync' })).length).toBe(1);
    expect(logger.lines.filter((l) => l.context.source === 'billingProvider')).toHaveLength(2);
    await engine.close();
  });

  it('writes to console.error when nobody listens and no logger is given', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const engine = await createEngine({ store: memoryStore(), catalog: demoCatalog, clock: testClock('2024-01-10T00:00:00Z') });
    let thrown = false;
    engine.on('entitlementsUpdated', () => {
      if (thrown) return;
      thrown = true;
      throw new Error('unheard');
    });
    await engine.provisionCustomer({ customerId: 'c1' });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(String(spy.mock.calls[0]![0])).toContain('entitlementsUpdated listener');
    await engine.close();
  });

  it('reports a failing change-feed poll once per streak, and logs when it recovers', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const inner = memoryStore();
    let down = false;
    const store: Store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'getChanges') {
          return (after: number, limit: number) => (down ? Promise.reject(new Error('database went away')) : target.getChanges(after, limit));
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const logger = recordingLogger();
    const clock = testClock('2024-01-10T00:00:00Z');
    const engine = await createEngine({ store, catalog: demoCatalog, clock, logger, followIntervalMs: 100 });
    const errors: EngineErrorEvent[] = [];
    engine.on('error', (e) => errors.push(e));
    down = true;
    for (let i = 0; i < 10; i++) {
      clock.advance({ seconds: 1 });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'follower', method: 'poll' });
    // A minute later the same streak is reported once more.
    clock.advance({ minutes: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toHaveLength(2);
    down = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(logger.lines.some((l) => l.level === 'info' && l.message === 'tessera: the change feed is read again')).toBe(true);
    // A new streak after recovery is reported at once.
    down = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toHaveLength(3);
    await engine.close();
  });
});
