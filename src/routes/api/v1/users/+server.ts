import { ListUsersQuery, UserList } from '$lib/schemas/users';
import { config } from '$lib/server/config';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { db } from '$lib/server/runtime';
import { adminUserJson } from '$lib/server/users/json';
import { listUsers } from '$lib/server/users/service';

export const _operations = {
	GET: operation({
		summary: 'List users (admin)',
		description: 'Newest first, paginated by page and per_page; q filters by email or username.',
		tags: ['admin'],
		auth: 'admin',
		query: ListUsersQuery,
		success: { status: 200, description: 'A page of users', schema: UserList },
		errors: ['forbidden']
	})
};

export const GET = endpoint(_operations.GET, async ({ user, query }) => {
	const page = await listUsers(db(), user, query);
	return {
		items: page.items.map((u) => adminUserJson(u, config())),
		page: page.page,
		per_page: page.perPage,
		total: page.total
	};
});
