// Starts the app: restores the login from the refresh cookie, then routes.
import { createApp } from "vue";
import { createPinia } from "pinia";
import AppShell from "./components/AppShell.js";
import { router } from "./router.js";
import { useAuthStore } from "./stores/auth.js";
import { useNoticesStore } from "./stores/notices.js";

const app = createApp(AppShell);
app.use(createPinia());
const auth = useAuthStore();
auth.whenExpired(() => {
  const here = router.currentRoute.value;
  useNoticesStore().warning("Your sign-in has expired. Sign in again to go on.");
  if (here.name !== "login") router.push({ name: "login", query: { next: here.fullPath } });
});
app.config.errorHandler = (error) => {
  console.error(error);
  useNoticesStore().error(error instanceof Error ? error.message : String(error));
};
await auth.restore();
app.use(router);
app.mount("#app");
