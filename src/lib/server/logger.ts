/**
 * Structured logs: one JSON event per line on stdout. Ids travel as fields (request_id, user_id,
 * job_id, ...). Anything that could carry a secret is redacted by path, so a careless
 * `log.info({ body })` cannot leak a password or token.
 */
import pino from 'pino';
import { config } from './config';

export const redactPaths = [
	'password',
	'*.password',
	'current_password',
	'*.current_password',
	'new_password',
	'*.new_password',
	'token',
	'*.token',
	'access_token',
	'*.access_token',
	'authorization',
	'*.authorization',
	'headers.authorization',
	'headers.cookie',
	'cookie',
	'credentials',
	'*.credentials'
];

export const logger = pino({
	level: config().LOG_LEVEL,
	base: { service: process.env.PIXSIM_PROCESS ?? 'web' },
	redact: { paths: redactPaths, censor: '[redacted]' },
	timestamp: pino.stdTimeFunctions.isoTime
});

export type Logger = pino.Logger;
