export { startProxy } from './start.ts';
export { ROLES, EDGE_ROLES, parseRole, type Role, type EdgeRole } from './roles.ts';
export { schemasByService, allVariables } from './schemas.ts';
