import { fail } from '@sveltejs/kit';
import { AdminUserForm } from '$lib/schemas/forms';
import { ListUsersQuery } from '$lib/schemas/users';
import { config } from '$lib/server/config';
import { failWith, parseForm } from '$lib/server/http/forms';
import { requireAdmin } from '$lib/server/http/pages';
import { db } from '$lib/server/runtime';
import { adminUserJson, quotasJson } from '$lib/server/users/json';
import { listUsers, updateUserAsAdmin } from '$lib/server/users/service';
import type { Actions } from './$types';

const PER_PAGE = 20;

export const load = async (event) => {
	const { user } = requireAdmin(event);
	// A malformed page number or search shows the first page rather than an error.
	const query = ListUsersQuery.safeParse(Object.fromEntries(event.url.searchParams));
	const { page, q } = query.success ? query.data : { page: 1, q: undefined };
	const result = await listUsers(db(), user, { page, per_page: PER_PAGE, q: q || undefined });
	const cfg = config();
	return {
		users: result.items.map((u) => adminUserJson(u, cfg)),
		page: result.page,
		perPage: result.perPage,
		total: result.total,
		q: q ?? '',
		defaults: quotasJson({
			jobsPerDay: cfg.QUOTA_JOBS_PER_DAY,
			storageBytes: cfg.QUOTA_STORAGE_BYTES,
			providerAccounts: cfg.QUOTA_PROVIDER_ACCOUNTS
		})
	};
};

export const actions = {
	update: async (event) => {
		const { user } = requireAdmin(event);
		const form = await event.request.formData();
		const userId = String(form.get('id') ?? '');
		const values = {
			role: String(form.get('role') ?? ''),
			is_active: form.has('is_active') ? 'on' : '',
			jobs_per_day: String(form.get('jobs_per_day') ?? ''),
			storage_gib: String(form.get('storage_gib') ?? ''),
			provider_accounts: String(form.get('provider_accounts') ?? '')
		};
		const parsed = parseForm(AdminUserForm, form);
		if (!parsed.ok) return fail(400, { userId, values, errors: parsed.errors });
		try {
			const updated = await updateUserAsAdmin(db(), user, parsed.data.id, parsed.data.patch);
			event.locals.log.info({ target_user_id: updated.id }, 'admin:user-updated');
		} catch (err) {
			return failWith(err, { userId, values });
		}
		return { userId, success: 'Saved.' };
	}
} satisfies Actions;
