import { z } from 'zod';
import { revokeApiToken } from '$lib/server/auth/api-tokens';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	DELETE: operation({
		summary: 'Revoke an API token',
		tags: ['auth'],
		auth: 'user',
		params: z.object({ id: z.uuid() }),
		success: { status: 204, description: 'Revoked' },
		errors: ['not_found']
	})
};

export const DELETE = endpoint(_operations.DELETE, async ({ user, params }) => {
	await revokeApiToken(db(), user.id, params.id);
});
