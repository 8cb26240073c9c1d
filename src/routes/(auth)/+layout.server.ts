import { redirect } from '@sveltejs/kit';
import { afterSignInPath } from '$lib/server/http/pages';

export const load = ({ locals, url }) => {
	if (locals.user) redirect(303, afterSignInPath(url));
};
