export { startProxy } from './start.ts';
export { ROLES, EDGE_ROLES, type Role, type EdgeRole } from './roles.ts';
export { schemasByService, allVariables } from './schemas.ts';
