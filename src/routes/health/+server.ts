import { z } from 'zod';
import { OperationType } from '$lib/schemas/jobs';
import { checkHealth } from '$lib/server/health';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { boss, db } from '$lib/server/runtime';
import { json } from '@sveltejs/kit';

const Health = z
	.object({
		status: z.enum(['healthy', 'degraded']),
		providers: z.array(z.object({ id: z.string(), operations: z.array(OperationType) })),
		database: z.enum(['ok', 'unreachable']),
		queue: z.enum(['ok', 'unreachable'])
	})
	.meta({ id: 'Health' });

export const _operations = {
	GET: operation({
		summary: 'Service health',
		description: 'Answers 503 with status "degraded" when the database or the queue cannot be reached.',
		tags: ['system'],
		auth: 'public',
		success: { status: 200, description: 'Healthy', schema: Health },
		otherResponses: [{ status: 503, description: 'Degraded: the database or the queue is unreachable', schema: Health }]
	})
};

export const GET = endpoint(_operations.GET, async () => {
	const health = await checkHealth(db(), boss());
	return json(health, { status: health.status === 'healthy' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
});
