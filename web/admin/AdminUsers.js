// Every account, a page at a time: filter by role or search, create one with any role, change a
// role, deactivate or reactivate (with confirmation), and sign someone out everywhere.
import { computed, defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import ConfirmDialog from "../components/ConfirmDialog.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";
import UserFormDialog from "./UserFormDialog.js";
import { ROLES, ROLE_LABELS, formatDate } from "./words.js";

const PAGE_SIZE = 15;

export default defineComponent({
  name: "AdminUsers",
  components: { ConfirmDialog, LoadingSpinner, UserFormDialog },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const page = ref(null);
    const pageNumber = ref(1);
    const role = ref("");
    const search = ref("");
    const creating = ref(false);
    const pending = ref(null); // {kind: "active"|"role"|"sessions", user, role?}
    const busy = ref(false);

    const pages = computed(() => Math.max(1, Math.ceil((page.value?.total || 0) / PAGE_SIZE)));

    async function load(number = pageNumber.value) {
      const params = new URLSearchParams({ page: String(number), page_size: String(PAGE_SIZE) });
      if (role.value) params.set("role", role.value);
      if (search.value.trim()) params.set("search", search.value.trim());
      try {
        const answer = await api.get(`/api/users?${params}`);
        if (!answer.items.length && number > 1) return load(number - 1);
        page.value = answer;
        pageNumber.value = number;
      } catch (error) {
        page.value = page.value || { items: [], total: 0 };
        notices.error(error, { title: "Users could not be loaded" });
      }
    }

    function created(user) {
      creating.value = false;
      notices.success(`${user.name} can now sign in as ${ROLE_LABELS[user.role].toLowerCase()}.`);
      load(1);
    }

    function askRole(user, event) {
      const chosen = event.target.value;
      if (chosen === user.role) return;
      event.target.value = user.role; // stays as it is until confirmed
      pending.value = { kind: "role", user, role: chosen };
    }

    const dialog = computed(() => {
      const p = pending.value;
      if (!p) return { open: false, title: "", confirm: "", danger: false };
      if (p.kind === "role") return { open: true, title: `Make ${p.user.name} ${article(p.role)} ${ROLE_LABELS[p.role].toLowerCase()}?`, confirm: "Change role", danger: false };
      if (p.kind === "sessions") return { open: true, title: `Sign ${p.user.name} out everywhere?`, confirm: "End sessions", danger: true };
      return p.user.is_active
        ? { open: true, title: `Deactivate ${p.user.name}?`, confirm: "Deactivate", danger: true }
        : { open: true, title: `Reactivate ${p.user.name}?`, confirm: "Reactivate", danger: false };
    });

    async function confirm() {
      const p = pending.value;
      busy.value = true;
      try {
        if (p.kind === "sessions") {
          await api.post(`/api/users/${p.user.id}/sessions/revoke`);
          notices.success(`${p.user.name} is signed out on every device.`);
        } else {
          const body = p.kind === "role" ? { role: p.role } : { is_active: !p.user.is_active };
          const updated = await api.patch(`/api/users/${p.user.id}`, body);
          Object.assign(p.user, updated);
          notices.success(
            p.kind === "role"
              ? `${updated.name} is now ${article(updated.role)} ${ROLE_LABELS[updated.role].toLowerCase()}.`
              : updated.is_active ? `${updated.name} can sign in again.` : `${updated.name} is deactivated and signed out.`
          );
        }
        pending.value = null;
      } catch (error) {
        notices.error(error, { title: "Not changed" });
      } finally {
        busy.value = false;
      }
    }

    function applyFilters() {
      load(1);
    }

    onMounted(() => load(1));
    return {
      auth, page, pageNumber, pages, role, search, creating, pending, busy, dialog,
      load, created, askRole, confirm, applyFilters, ROLES, ROLE_LABELS, formatDate,
    };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>Users</h1>
        <p>Create accounts for staff and students, change roles and close access.</p>
      </div>
      <button type="button" class="button" @click="creating = true">+ New user</button>
    </header>

    <form class="card admin-filters" role="search" aria-label="Filter users" @submit.prevent="applyFilters">
      <div class="field">
        <label for="filter-role">Role</label>
        <select id="filter-role" v-model="role" @change="applyFilters">
          <option value="">All roles</option>
          <option v-for="r in ROLES" :key="r" :value="r">{{ ROLE_LABELS[r] }}</option>
        </select>
      </div>
      <div class="field admin-filters__grow">
        <label for="filter-search">Name or email</label>
        <input id="filter-search" v-model="search" type="search" maxlength="200" placeholder="e.g. ada@school.org">
      </div>
      <button type="submit" class="button button--secondary">Search</button>
    </form>

    <loading-spinner v-if="page === null" block label="Loading users…"></loading-spinner>
    <section v-else class="card" aria-labelledby="users-list-heading">
      <div class="admin-list-head">
        <h2 id="users-list-heading">Accounts</h2>
        <p class="muted" role="status">{{ page.total }} {{ page.total === 1 ? "account" : "accounts" }}</p>
      </div>
      <p v-if="!page.items.length" class="empty-state">No account matches these filters.</p>
      <div v-else class="table-wrap">
        <table class="admin-table">
          <caption class="visually-hidden">Accounts, page {{ pageNumber }} of {{ pages }}</caption>
          <thead>
            <tr><th scope="col">Person</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col" class="admin-col-optional">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            <tr v-for="user in page.items" :key="user.id" :class="{ 'admin-row--inactive': !user.is_active }">
              <td class="admin-person">
                <span class="admin-name">{{ user.name }}<span v-if="user.id === auth.user.id" class="muted"> (you)</span></span>
                <span class="admin-email">{{ user.email }}</span>
              </td>
              <td>
                <select class="admin-role-select" :value="user.role" :aria-label="'Role of ' + user.name"
                        :disabled="user.id === auth.user.id" @change="askRole(user, $event)">
                  <option v-for="r in ROLES" :key="r" :value="r">{{ ROLE_LABELS[r] }}</option>
                </select>
              </td>
              <td><span :class="['badge', user.is_active ? 'badge--success' : 'badge--danger']">{{ user.is_active ? "Active" : "Deactivated" }}</span></td>
              <td class="admin-nowrap admin-col-optional">{{ formatDate(user.created_at) }}</td>
              <td>
                <div class="admin-actions" v-if="user.id !== auth.user.id">
                  <button type="button" class="button button--ghost button--small" :aria-label="'End sessions of ' + user.name"
                          v-if="user.is_active" @click="pending = { kind: 'sessions', user }">End sessions</button>
                  <button type="button" :class="['button', 'button--small', user.is_active ? 'button--secondary' : '']"
                          :aria-label="(user.is_active ? 'Deactivate ' : 'Reactivate ') + user.name"
                          @click="pending = { kind: 'active', user }">{{ user.is_active ? "Deactivate" : "Reactivate" }}</button>
                </div>
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <nav v-if="pages > 1" class="admin-pager" aria-label="Pages of users">
        <button type="button" class="button button--secondary button--small" :disabled="pageNumber <= 1" @click="load(pageNumber - 1)">Previous</button>
        <span>Page {{ pageNumber }} of {{ pages }}</span>
        <button type="button" class="button button--secondary button--small" :disabled="pageNumber >= pages" @click="load(pageNumber + 1)">Next</button>
      </nav>
    </section>

    <user-form-dialog :open="creating" @created="created" @cancel="creating = false"></user-form-dialog>

    <confirm-dialog :open="dialog.open" :title="dialog.title" :confirm-label="dialog.confirm" :danger="dialog.danger" :busy="busy"
                    @confirm="confirm" @cancel="pending = null">
      <p v-if="pending && pending.kind === 'role'">Their pages and permissions change at their next sign-in or page load.</p>
      <p v-else-if="pending && pending.kind === 'sessions'">They are signed out on every device and must sign in again. The account stays active.</p>
      <p v-else-if="pending && pending.user.is_active">They are signed out at once and cannot sign in until reactivated. Their tests, attempts and results are kept.</p>
      <p v-else-if="pending">They can sign in again with their current password.</p>
    </confirm-dialog>`,
});

function article(role) {
  return role === "admin" || role === "auditor" ? "an" : "a";
}
