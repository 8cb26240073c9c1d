import { SessionList } from '$lib/schemas/auth';
import { sessionJson } from '$lib/server/auth/json';
import { listSessions } from '$lib/server/auth/sessions';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';

export const _operations = {
	GET: operation({
		summary: 'List my sessions',
		tags: ['auth'],
		auth: 'user',
		success: { status: 200, description: 'Active sessions, most recently seen first', schema: SessionList }
	})
};

export const GET = endpoint(_operations.GET, async ({ user, event }) => {
	const sessions = await listSessions(db(), user.id);
	return { items: sessions.map((s) => sessionJson(s, event.locals.session?.id ?? null)) };
});
