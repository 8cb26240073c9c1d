import { redirect } from '@sveltejs/kit';
import { endBrowserSession } from '$lib/server/http/pages';
import type { Actions } from './$types';

// Signing out is a POST (a link could be followed by a prefetcher); a visit just goes home.
export const load = () => redirect(303, '/');

export const actions = {
	default: async (event) => {
		await endBrowserSession(event);
		event.locals.log.info('auth:logout');
		redirect(303, '/login');
	}
} satisfies Actions;
