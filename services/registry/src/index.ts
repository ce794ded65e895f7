export { registrySchema } from './config.ts';
export { RegistryService, SWEEP_INTERVAL_MS, type RegistryConfig, type RegistryDeps, type RegistryTimers } from './registry-service.ts';
export { SERVER_HEADER, VERSION_BODY } from './system-api.ts';
export { REGISTER_BODY_LIMIT } from './register-request.ts';
export { DEFAULT_BACKEND_REFRESH_MS } from './default-backend.ts';
