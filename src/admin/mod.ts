/** The operator's admin API: account, login sessions, first-run setup and routes. */
export {
  AdminAuth,
  type AdminAuthDeps,
  type AdminLogin,
  type AdminSession,
  SESSION_COOKIE,
} from "./auth.ts";
export { BASE_LOCK_MS, lockLength, MAX_LOCK_MS } from "./lockout.ts";
export { AllowedOrigins } from "./origins.ts";
export {
  checkPasswordPolicy,
  hashPassword,
  MIN_PASSWORD_LENGTH,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from "./password.ts";
export { ADMIN_ROUTE_DOCS } from "./openapi.ts";
export { ADMIN_API, type AdminRoutesDeps, mountAdminRoutes } from "./routes.ts";
export { SetupToken } from "./setup_token.ts";
export { type AdminUiDeps, adminUiRouter, mountAdminUi } from "./ui/ui_routes.tsx";
