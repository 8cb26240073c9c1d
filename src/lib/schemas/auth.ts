import { z } from 'zod';
import { emailField, isoDate, passwordField, usernameField, uuid } from './common';
import { UserJson } from './users';

export const RegisterRequest = z
	.object({ email: emailField, username: usernameField, password: passwordField })
	.meta({ id: 'RegisterRequest' });

export const LoginRequest = z
	.object({
		email: z.string({ error: 'Enter your email.' }).trim().min(1, 'Enter your email.').max(254),
		password: z.string({ error: 'Enter your password.' }).min(1, 'Enter your password.').max(256)
	})
	.meta({ id: 'LoginRequest' });

export const AuthResponse = z
	.object({ user: UserJson, access_token: z.string(), token_type: z.literal('bearer') })
	.meta({ id: 'AuthResponse' });

export const SessionJson = z
	.object({
		id: uuid,
		ip_address: z.string().nullable(),
		user_agent: z.string().nullable(),
		created_at: isoDate,
		last_seen_at: isoDate,
		expires_at: isoDate,
		current: z.boolean()
	})
	.meta({ id: 'Session' });

export const SessionList = z.object({ items: z.array(SessionJson) }).meta({ id: 'SessionList' });

export const CreateApiTokenRequest = z
	.object({
		name: z.string({ error: 'Name the token.' }).trim().min(1, 'Name the token.').max(100, 'Name is too long.'),
		expires_in_days: z.number().int().min(1).max(3650).nullable().optional()
	})
	.meta({ id: 'CreateApiTokenRequest' });

export const ApiTokenJson = z
	.object({
		id: uuid,
		name: z.string(),
		token_prefix: z.string(),
		created_at: isoDate,
		last_used_at: isoDate.nullable(),
		expires_at: isoDate.nullable()
	})
	.meta({ id: 'ApiToken' });

export const CreatedApiToken = ApiTokenJson.extend({
	token: z.string().describe('Shown only once. Send it as `Authorization: Bearer <token>`.')
}).meta({ id: 'CreatedApiToken' });

export const ApiTokenList = z.object({ items: z.array(ApiTokenJson) }).meta({ id: 'ApiTokenList' });
