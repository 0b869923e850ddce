import type { Role } from '../generated/prisma/client.js';

/** Who is asking: the signed-in user taken from a verified token. */
export type Viewer = { userId: string; roles: Role[] };

export const hasRole = (viewer: Viewer | null, role: Role): boolean => !!viewer?.roles.includes(role);
