import { z } from 'zod';
import { defineTool } from './define';

export const healthCheckInput = z.strictObject({});

export const healthCheckOutput = z.object({
  status: z.enum(['ok', 'degraded']),
  store: z.object({ ok: z.boolean(), read_only: z.boolean(), episodes: z.number().optional(), error: z.string().optional() }),
  sandbox: z.object({
    ok: z.boolean(),
    workers: z.number(),
    active: z.number(),
    queued: z.number(),
    worker_restarts: z.number(),
    file_system: z.boolean().optional(),
    network: z.boolean().optional(),
    allowed_paths: z.array(z.string()).optional().describe('The folders sandboxed code may use, as resolved (real paths) when the configuration was accepted.'),
    allowed_hosts: z.array(z.string()).optional(),
    error: z.string().optional(),
  }),
  server: z.object({
    name: z.string(),
    version: z.string(),
    transport: z.string(),
    started_at: z.string(),
    uptime_s: z.number(),
    tools_enabled: z.number(),
    sessions: z.number().optional(),
  }),
});

export const healthCheckTool = defineTool({
  name: 'health_check',
  title: 'Health check',
  tier: 'core',
  description: 'Whether the store answers (and is read-only), the sandbox pool state and the server status. Use when another tool fails unexpectedly.',
  input: healthCheckInput,
  output: healthCheckOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(_args, { store, sandbox, serverStatus }) {
    let storePart: z.output<typeof healthCheckOutput>['store'];
    try {
      const stats = await store.stats();
      storePart = { ok: true, read_only: stats.readOnly, episodes: stats.episodes };
    } catch (error) {
      storePart = { ok: false, read_only: store.readOnly, error: error instanceof Error ? error.message : String(error) };
    }
    let sandboxPart: z.output<typeof healthCheckOutput>['sandbox'];
    try {
      const m = sandbox.metrics();
      const c = sandbox.config;
      sandboxPart = {
        ok: m.workers > 0 || m.total === 0,
        workers: m.workers,
        active: m.active,
        queued: m.queued,
        worker_restarts: m.workerRestarts,
        file_system: c.allowFilesystem,
        network: c.allowNetwork,
        allowed_paths: c.allowFilesystem ? c.allowedPaths : [],
        allowed_hosts: c.allowNetwork ? c.allowedHosts : [],
      };
    } catch (error) {
      sandboxPart = { ok: false, workers: 0, active: 0, queued: 0, worker_restarts: 0, error: error instanceof Error ? error.message : String(error) };
    }
    const st = serverStatus();
    const status: 'ok' | 'degraded' = storePart.ok && sandboxPart.ok ? 'ok' : 'degraded';
    return {
      structured: {
        status,
        store: storePart,
        sandbox: sandboxPart,
        server: {
          name: st.name,
          version: st.version,
          transport: st.transport,
          started_at: st.startedAt,
          uptime_s: st.uptimeS,
          tools_enabled: st.toolsEnabled,
          ...(st.sessions !== undefined ? { sessions: st.sessions } : {}),
        },
      },
      text: `Status ${status}: store ${storePart.ok ? (storePart.read_only ? 'ok (read-only)' : 'ok') : `failing (${storePart.error})`}, sandbox ${sandboxPart.ok ? `ok (${sandboxPart.workers} worker(s))` : 'failing'}, server up ${st.uptimeS} s over ${st.transport}.`,
    };
  },
});
