import { redirect } from '@sveltejs/kit';
import { signInPath } from '$lib/server/http/pages';
import { userJson } from '$lib/server/users/json';

export const load = ({ locals, url }) => {
	// Reading the URL makes this load run on every navigation, so a session ended elsewhere
	// (password change, revoked, deactivated) sends the person to sign in at their next click.
	const here = signInPath(url);
	if (!locals.user) redirect(303, here);
	return { user: userJson(locals.user) };
};
