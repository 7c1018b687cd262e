import { defineComponent } from "vue";
import { useAuthStore } from "../stores/auth.js";

export default defineComponent({
  name: "NotFoundPage",
  setup() {
    return { auth: useAuthStore() };
  },
  template: `
    <section class="card card--narrow empty-state">
      <h1>Page not found</h1>
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <router-link class="button" :to="auth.signedIn ? auth.homeRoute : { name: 'landing' }">Go to the start page</router-link>
    </section>`,
});
