import { fail, redirect } from '@sveltejs/kit';
import { RegisterRequest } from '$lib/schemas/auth';
import { registerUser } from '$lib/server/auth/service';
import { config } from '$lib/server/config';
import { clientInfo } from '$lib/server/http/client-info';
import { failWith, parseForm } from '$lib/server/http/forms';
import { afterSignInPath, startBrowserSession } from '$lib/server/http/pages';
import { db } from '$lib/server/runtime';
import type { Actions } from './$types';

export const actions = {
	default: async (event) => {
		const form = await event.request.formData();
		// The password is never sent back.
		const values = { email: String(form.get('email') ?? ''), username: String(form.get('username') ?? '') };
		const parsed = parseForm(RegisterRequest, form);
		if (!parsed.ok) return fail(400, { values, errors: parsed.errors });
		try {
			const signedIn = await registerUser(db(), parsed.data, clientInfo(event), config());
			startBrowserSession(event, signedIn);
			event.locals.log.info({ user_id: signedIn.user.id, role: signedIn.user.role }, 'auth:register');
		} catch (err) {
			return failWith(err, { values });
		}
		redirect(303, afterSignInPath(event.url));
	}
} satisfies Actions;
