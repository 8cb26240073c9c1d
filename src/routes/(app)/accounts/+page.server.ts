import { requireAdmin } from '$lib/server/http/pages';

export const load = (event) => {
	requireAdmin(event);
};
