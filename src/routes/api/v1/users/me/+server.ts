import { MeResponse, UpdateMeRequest } from '$lib/schemas/users';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { accountJson } from '$lib/server/users/json';
import { getAccount, updateOwnProfile } from '$lib/server/users/service';

export const _operations = {
	GET: operation({
		summary: 'My account, quotas and usage today',
		tags: ['users'],
		auth: 'user',
		success: { status: 200, description: 'The signed-in user', schema: MeResponse }
	}),
	PATCH: operation({
		summary: 'Change my username or password',
		description: 'A password change needs the current password and ends every other session.',
		tags: ['users'],
		auth: 'user',
		body: UpdateMeRequest,
		success: { status: 200, description: 'Updated account', schema: MeResponse },
		errors: ['conflict']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, event }) =>
	accountJson(await getAccount(db(), user, config(), event.locals.usageToday))
);

export const PATCH = endpoint(_operations.PATCH, async ({ user, body, event }) => {
	const updated = await updateOwnProfile(db(), { user, session: event.locals.session, apiToken: event.locals.apiToken }, body);
	return accountJson(await getAccount(db(), updated, config(), event.locals.usageToday));
});
