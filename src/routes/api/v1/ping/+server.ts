import { z } from 'zod';
import { endpoint, operation } from '$lib/server/http/endpoint';

export const _operations = {
	GET: operation({
		summary: 'Liveness probe',
		description: 'Constant JSON without touching the database: a liveness check, and the baseline of the auth benchmark.',
		tags: ['system'],
		auth: 'public',
		success: { status: 200, description: 'The process is serving', schema: z.object({ status: z.literal('ok') }) }
	})
};

export const GET = endpoint(_operations.GET, async () => ({ status: 'ok' }));
