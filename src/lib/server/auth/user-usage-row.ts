/**
 * The part of an array-mode lookup row that the session and API-token lookups share: after their
 * own row come the user's columns, then today's usage from a left join (all null without one).
 */
import { columnReader } from '../db/prepared';
import { dailyUsage, users, type DailyUsage, type User } from '../db/schema';

const userColumns = columnReader(users);
const usageColumns = columnReader(dailyUsage);
const usageUserId = usageColumns.indexOf('userId');

export function readUserAndUsage(row: unknown[], offset: number): { user: User; usage: DailyUsage | null } {
	const usageAt = offset + userColumns.width;
	return {
		user: userColumns.read(row, offset),
		// No usage row today: the left join's columns are all null (user_id never is in a real row).
		usage: row[usageAt + usageUserId] === null ? null : usageColumns.read(row, usageAt)
	};
}
