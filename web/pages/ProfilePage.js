import { defineComponent, reactive, ref } from "vue";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";

export default defineComponent({
  name: "ProfilePage",
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const name = ref(auth.user?.name || "");
    const passwords = reactive({ current: "", next: "", repeat: "" });
    const saving = ref(false);
    const changing = ref(false);
    async function saveName() {
      saving.value = true;
      try {
        await auth.rename(name.value);
        notices.success("Your name is saved.");
      } catch (error) {
        notices.error(error, { title: "The name was not saved" });
      } finally {
        saving.value = false;
      }
    }
    async function changePassword() {
      if (passwords.next !== passwords.repeat) {
        notices.error("The two new passwords are not the same.");
        return;
      }
      changing.value = true;
      try {
        await auth.changePassword(passwords.current, passwords.next);
        Object.assign(passwords, { current: "", next: "", repeat: "" });
        notices.success("Password changed. You were signed out everywhere else.");
      } catch (error) {
        notices.error(error, { title: "The password was not changed" });
      } finally {
        changing.value = false;
      }
    }
    return { auth, name, passwords, saving, changing, saveName, changePassword };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>Your profile</h1>
        <p>{{ auth.user.email }} · <span class="badge badge--info">{{ auth.role }}</span></p>
      </div>
    </header>
    <div class="grid profile-grid">
      <section class="card">
        <h2>Name</h2>
        <form class="form" @submit.prevent="saveName">
          <div class="field">
            <label for="profile-name">Name shown to teachers and students</label>
            <input id="profile-name" v-model.trim="name" type="text" autocomplete="name" required>
          </div>
          <button class="button" type="submit" :disabled="saving || !name || name === auth.user.name">Save name</button>
        </form>
      </section>
      <section class="card">
        <h2>Password</h2>
        <form class="form" @submit.prevent="changePassword">
          <div class="field">
            <label for="profile-current">Current password</label>
            <input id="profile-current" v-model="passwords.current" type="password" autocomplete="current-password" required>
          </div>
          <div class="field">
            <label for="profile-new">New password</label>
            <input id="profile-new" v-model="passwords.next" type="password" autocomplete="new-password" minlength="8" required aria-describedby="profile-new-hint">
            <p id="profile-new-hint" class="field__hint">At least 8 characters. Other devices will be signed out.</p>
          </div>
          <div class="field">
            <label for="profile-repeat">New password again</label>
            <input id="profile-repeat" v-model="passwords.repeat" type="password" autocomplete="new-password" required>
          </div>
          <button class="button" type="submit" :disabled="changing || !passwords.current || passwords.next.length < 8 || !passwords.repeat">Change password</button>
        </form>
      </section>
    </div>`,
});
