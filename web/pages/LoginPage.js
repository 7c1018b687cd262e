import { defineComponent, ref } from "vue";
import { useRoute, useRouter } from "vue-router";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";

export default defineComponent({
  name: "LoginPage",
  components: { LoadingSpinner },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const route = useRoute();
    const router = useRouter();
    const email = ref("");
    const password = ref("");
    const busy = ref(false);
    const failure = ref("");
    async function submit() {
      busy.value = true;
      failure.value = "";
      try {
        await auth.login(email.value, password.value);
        const next = typeof route.query.next === "string" && route.query.next.startsWith("/") ? route.query.next : null;
        await router.replace(next || auth.homeRoute);
      } catch (error) {
        failure.value = error.message;
        notices.error(error, { title: "Sign-in failed" });
      } finally {
        busy.value = false;
      }
    }
    return { email, password, busy, failure, submit, returning: Boolean(route.query.next) };
  },
  template: `
    <section class="card card--narrow">
      <h1>Sign in</h1>
      <p v-if="returning" class="notice notice--info">Sign in to go back to the page you were on.</p>
      <form class="form" @submit.prevent="submit" novalidate>
        <div class="field">
          <label for="login-email">Email</label>
          <input id="login-email" v-model.trim="email" type="email" autocomplete="username" required>
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input id="login-password" v-model="password" type="password" autocomplete="current-password" required
                 :aria-invalid="failure ? 'true' : 'false'" :aria-describedby="failure ? 'login-error' : undefined">
          <p v-if="failure" id="login-error" class="field__error">{{ failure }}</p>
        </div>
        <button class="button" type="submit" :disabled="busy || !email || !password">Sign in</button>
        <loading-spinner v-if="busy" label="Signing in…"></loading-spinner>
      </form>
      <p class="muted">New here? <router-link :to="{ name: 'register' }">Create an account</router-link>.</p>
    </section>`,
});
