import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { buildSidecar, type SidecarOptions } from './app.js';

/** Options of `serveSidecar`: the sidecar's, plus where to listen. */
export interface ServeSidecarOptions extends SidecarOptions {
  /** TCP port; 8787 by default, 0 for any free port (the answer's `port` and `url` tell which). */
  port?: number;
  /** Interface to listen on; loopback (127.0.0.1) by default. */
  hostname?: string;
}

/** A listening sidecar. */
export interface RunningSidecar {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  port: number;
  /**
   * Stops listening, ends change-feed waits and event streams, lets requests in flight finish
   * (cut after 5 s) and resolves once every connection is closed. The engine stays open.
   */
  close(): Promise<void>;
}

/** Starts the sidecar on a node:http server. Rejects when the port cannot be had (EADDRINUSE...). */
export async function serveSidecar(options: ServeSidecarOptions): Promise<RunningSidecar> {
  const { port = 8787, hostname = '127.0.0.1', ...sidecarOptions } = options;
  const { app, feed, direct } = buildSidecar(sidecarOptions);
  // The engine methods are answered by `direct`; the rest (and what it declines) by hono, as
  // @hono/node-server's createAdaptorServer would serve it.
  const viaHono = getRequestListener(app.fetch, { hostname });
  const server = createServer((incoming, outgoing) => {
    if (!direct(incoming, outgoing)) void viaHono(incoming, outgoing);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        feed.close();
        // Connections that finish their request after close() stay open as idle keep-alives
        // unless closed again, so keep closing idle ones until the server reports closed.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        const cut = setTimeout(() => server.closeAllConnections(), 5_000);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
