import { invalidateSession } from '$lib/server/auth/sessions';
import { deleteSessionCookie } from '$lib/server/auth/cookie';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	POST: operation({
		summary: 'Sign out',
		description: 'Ends the session behind the request; its token stops working. (An API token is revoked with DELETE /auth/tokens/{id}.)',
		tags: ['auth'],
		auth: 'user',
		success: { status: 204, description: 'Signed out' }
	})
};

export const POST = endpoint(_operations.POST, async ({ event }) => {
	if (event.locals.session) await invalidateSession(db(), event.locals.session.id);
	deleteSessionCookie(event.cookies, event.url);
});
