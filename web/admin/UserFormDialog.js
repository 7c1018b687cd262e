// Create an account with any role: name, email, a first password and the role.
import { defineComponent, reactive, ref, watch } from "vue";
import { api } from "../api/client.js";
import ModalDialog from "../components/ModalDialog.js";
import { ROLES, ROLE_LABELS } from "./words.js";

export default defineComponent({
  name: "UserFormDialog",
  components: { ModalDialog },
  props: { open: { type: Boolean, required: true } },
  emits: ["created", "cancel"],
  setup(props, { emit }) {
    const form = reactive({ name: "", email: "", password: "", role: "student" });
    const error = ref("");
    const busy = ref(false);
    watch(
      () => props.open,
      (open) => {
        if (!open) return;
        Object.assign(form, { name: "", email: "", password: "", role: "student" });
        error.value = "";
      }
    );
    async function submit() {
      error.value = "";
      if (form.password.length < 8) {
        error.value = "The password needs at least 8 characters.";
        return;
      }
      busy.value = true;
      try {
        const user = await api.post("/api/users", { ...form });
        emit("created", user);
      } catch (failure) {
        error.value = failure.message;
      } finally {
        busy.value = false;
      }
    }
    function cancel() {
      if (!busy.value) emit("cancel");
    }
    return { form, error, busy, submit, cancel, ROLES, ROLE_LABELS };
  },
  template: `
    <modal-dialog :open="open" title="New user" @close="cancel">
      <form id="user-form" class="form" @submit.prevent="submit" novalidate>
        <div class="field">
          <label for="user-name">Full name</label>
          <input id="user-name" type="text" v-model="form.name" required maxlength="200" autocomplete="off">
        </div>
        <div class="field">
          <label for="user-email">Email</label>
          <input id="user-email" v-model="form.email" type="email" required autocomplete="off">
        </div>
        <div class="field">
          <label for="user-password">First password</label>
          <input id="user-password" v-model="form.password" type="password" required minlength="8" autocomplete="new-password" aria-describedby="user-password-hint">
          <span id="user-password-hint" class="field__hint">At least 8 characters. Share it with the person privately; they can change it on their profile.</span>
        </div>
        <div class="field">
          <label for="user-role">Role</label>
          <select id="user-role" v-model="form.role">
            <option v-for="role in ROLES" :key="role" :value="role">{{ ROLE_LABELS[role] }}</option>
          </select>
        </div>
        <p v-if="error" class="notice notice--error" role="alert">{{ error }}</p>
      </form>
      <template #actions>
        <button type="button" class="button button--secondary" :disabled="busy" @click="cancel">Cancel</button>
        <button type="submit" form="user-form" class="button" :disabled="busy">{{ busy ? "Creating…" : "Create user" }}</button>
      </template>
    </modal-dialog>`,
});
