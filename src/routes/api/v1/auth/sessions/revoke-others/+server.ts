import { z } from 'zod';
import { revokeOtherSessions } from '$lib/server/auth/sessions';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Revoke all my other sessions',
		description: 'Signs out everywhere except the session making this request.',
		tags: ['auth'],
		auth: 'user',
		success: { status: 200, description: 'How many sessions ended', schema: z.object({ revoked: z.number().int() }) }
	})
};

export const POST = endpoint(_operations.POST, async ({ user, event }) => ({
	revoked: await revokeOtherSessions(db(), user.id, event.locals.session?.id ?? null)
}));
