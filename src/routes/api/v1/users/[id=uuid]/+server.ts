import { z } from 'zod';
import { AdminUpdateUserRequest, AdminUserJson } from '$lib/schemas/users';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { adminUserJson } from '$lib/server/users/json';
import { updateUserAsAdmin } from '$lib/server/users/service';

export const _operations = {
	PATCH: operation({
		summary: 'Change a user’s role, status or quotas (admin)',
		description: 'Deactivating a user ends their sessions. A quota set to null returns to the default. The last active admin cannot be demoted or deactivated (409).',
		tags: ['admin'],
		auth: 'admin',
		params: z.object({ id: z.uuid() }),
		body: AdminUpdateUserRequest,
		success: { status: 200, description: 'The updated user', schema: AdminUserJson },
		errors: ['forbidden', 'not_found', 'conflict']
	})
};

export const PATCH = endpoint(_operations.PATCH, async ({ user, params, body, event }) => {
	const updated = await updateUserAsAdmin(db(), user, params.id, body);
	event.locals.log.info({ target_user_id: updated.id, changes: Object.keys(body) }, 'admin:user-updated');
	return adminUserJson(updated, config());
});
