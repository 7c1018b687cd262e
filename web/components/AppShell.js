// The frame of every page: a skip link, the navigation bar by role, the page, the toasts.
import { computed, defineComponent } from "vue";
import { useRoute, useRouter } from "vue-router";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";
import ToastStack from "./ToastStack.js";

const LINKS = {
  student: [{ to: { name: "student-home" }, label: "My tests" }],
  teacher: [
    { to: { name: "teacher-home" }, label: "My tests" },
    { to: { name: "test-new" }, label: "New test" },
  ],
  admin: [
    { to: { name: "admin-home" }, label: "Overview" },
    { to: { name: "admin-users" }, label: "Users" },
    { to: { name: "admin-audit" }, label: "Audit log" },
  ],
  auditor: [
    { to: { name: "review-queue" }, label: "Review queue" },
    { to: { name: "staff-home" }, label: "Overview" },
  ],
};

export default defineComponent({
  name: "AppShell",
  components: { ToastStack },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const route = useRoute();
    const router = useRouter();
    const links = computed(() => LINKS[auth.role] || []);
    // A test in progress takes the whole screen: no navigation to wander off with.
    const focused = computed(() => Boolean(route.meta.focused));
    // A page for signed-in users is not drawn once the login is gone (sign-out, expiry): it
    // would read a user that is no longer there while the router moves to sign-in.
    const viewAllowed = computed(() => !route.meta.roles || auth.signedIn);
    async function signOut() {
      try {
        await auth.logout();
      } catch (error) {
        notices.error(error);
      }
      router.push({ name: "login" });
      notices.info("You are signed out.");
    }
    return { auth, links, focused, viewAllowed, signOut };
  },
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="app-header" v-if="!focused">
      <nav class="app-header__inner" aria-label="Main">
        <router-link class="brand" :to="auth.signedIn ? auth.homeRoute : { name: 'landing' }">
          <img class="brand__mark" src="/web/favicon.svg" alt="" width="28" height="28">
          ProtoLearn
        </router-link>
        <ul class="nav-links" v-if="auth.signedIn">
          <li v-for="link in links" :key="link.label"><router-link :to="link.to">{{ link.label }}</router-link></li>
        </ul>
        <div class="nav-user" v-if="auth.signedIn">
          <router-link class="nav-links__profile button button--on-dark button--small" :to="{ name: 'profile' }">
            <span class="nav-user__name">{{ auth.user.name }}</span>
            <span class="role-badge">{{ auth.role }}</span>
          </router-link>
          <button type="button" class="button button--on-dark button--small" @click="signOut">Sign out</button>
        </div>
        <div class="nav-user" v-else>
          <router-link class="button button--on-dark button--small" :to="{ name: 'login' }">Sign in</router-link>
          <router-link class="button button--small" :to="{ name: 'register' }">Create account</router-link>
        </div>
      </nav>
    </header>
    <main id="main" class="app-main" tabindex="-1">
      <router-view v-if="viewAllowed"></router-view>
    </main>
    <footer class="app-footer" v-if="!focused">ProtoLearn · exams with proctoring decided on the server</footer>
    <toast-stack></toast-stack>`,
});
