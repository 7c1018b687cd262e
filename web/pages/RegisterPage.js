import { computed, defineComponent, reactive, ref } from "vue";
import { useRouter } from "vue-router";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";

export default defineComponent({
  name: "RegisterPage",
  components: { LoadingSpinner },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const router = useRouter();
    const form = reactive({ name: "", email: "", password: "", role: "student" });
    const busy = ref(false);
    const shortPassword = computed(() => form.password.length > 0 && form.password.length < 8);
    async function submit() {
      busy.value = true;
      try {
        await auth.register({ ...form });
        notices.success(`Welcome, ${auth.user.name}. Your account is ready.`);
        await router.replace(auth.homeRoute);
      } catch (error) {
        notices.error(error, { title: "The account was not created" });
      } finally {
        busy.value = false;
      }
    }
    return { form, busy, shortPassword, submit };
  },
  template: `
    <section class="card card--narrow">
      <h1>Create an account</h1>
      <form class="form" @submit.prevent="submit" novalidate>
        <div class="field">
          <label for="register-name">Full name</label>
          <input id="register-name" v-model.trim="form.name" type="text" autocomplete="name" required>
        </div>
        <div class="field">
          <label for="register-email">Email</label>
          <input id="register-email" v-model.trim="form.email" type="email" autocomplete="email" required>
        </div>
        <div class="field">
          <label for="register-password">Password</label>
          <input id="register-password" v-model="form.password" type="password" autocomplete="new-password" required
                 aria-describedby="register-password-hint" :aria-invalid="shortPassword ? 'true' : 'false'">
          <p id="register-password-hint" :class="shortPassword ? 'field__error' : 'field__hint'">At least 8 characters.</p>
        </div>
        <fieldset class="field">
          <legend>I am a</legend>
          <label class="checkbox"><input type="radio" name="role" value="student" v-model="form.role"> Student</label>
          <label class="checkbox"><input type="radio" name="role" value="teacher" v-model="form.role"> Teacher</label>
        </fieldset>
        <button class="button" type="submit" :disabled="busy || !form.name || !form.email || form.password.length < 8">Create account</button>
        <loading-spinner v-if="busy" label="Creating your account…"></loading-spinner>
      </form>
      <p class="muted">Already registered? <router-link :to="{ name: 'login' }">Sign in</router-link>.</p>
    </section>`,
});
