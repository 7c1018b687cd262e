// The audit log: who viewed or changed what, newest first, filtered by action, actor and object.
import { computed, defineComponent, onMounted, reactive, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import { actionLabel, formatDateTime } from "./words.js";

const PAGE_SIZE = 20;
const KNOWN_ACTIONS = [
  "user.create", "user.update", "user.delete", "user.sessions_revoke", "user.register", "user.password_change",
  "token.reuse_detected", "test.create", "test.delete", "test.import", "attempt.extend", "material.upload", "ai.generate",
];
const OBJECT_TYPES = ["user", "test", "attempt", "violation", "evidence", "material"];

function details(entry) {
  const parts = Object.entries(entry.details || {}).map(([key, value]) => {
    const shown = value !== null && typeof value === "object" ? Object.entries(value).map(([k, v]) => `${k}: ${v}`).join(", ") : value;
    return `${key.replace(/_/g, " ")}: ${shown}`;
  });
  return parts.join(" · ") || "—";
}

export default defineComponent({
  name: "AdminAudit",
  components: { LoadingSpinner },
  setup() {
    const notices = useNoticesStore();
    const filters = reactive({ action: "", actor_id: "", object_type: "", object_id: "" });
    const page = ref(null);
    const pageNumber = ref(1);
    const pages = computed(() => Math.max(1, Math.ceil((page.value?.total || 0) / PAGE_SIZE)));
    const filterError = ref("");

    async function load(number = pageNumber.value) {
      filterError.value = "";
      const params = new URLSearchParams({ page: String(number), page_size: String(PAGE_SIZE) });
      for (const [key, value] of Object.entries(filters)) {
        const text = String(value).trim();
        if (!text) continue;
        if ((key === "actor_id" || key === "object_id") && !/^\d+$/.test(text)) {
          filterError.value = "User and object ids are whole numbers.";
          return;
        }
        params.set(key, text);
      }
      try {
        page.value = await api.get(`/api/audit-log?${params}`);
        pageNumber.value = number;
      } catch (error) {
        page.value = page.value || { items: [], total: 0 };
        notices.error(error, { title: "The audit log could not be loaded" });
      }
    }

    function reset() {
      Object.assign(filters, { action: "", actor_id: "", object_type: "", object_id: "" });
      load(1);
    }

    onMounted(() => load(1));
    return { filters, page, pageNumber, pages, filterError, load, reset, details, actionLabel, formatDateTime, KNOWN_ACTIONS, OBJECT_TYPES };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>Audit log</h1>
        <p>Every account change, evidence view and sensitive action, newest first.</p>
      </div>
    </header>

    <form class="card admin-filters" role="search" aria-label="Filter the audit log" @submit.prevent="load(1)">
      <div class="field">
        <label for="audit-action">Action</label>
        <input id="audit-action" type="text" v-model="filters.action" list="audit-actions" maxlength="64" placeholder="e.g. user.update">
        <datalist id="audit-actions"><option v-for="action in KNOWN_ACTIONS" :key="action" :value="action"></option></datalist>
      </div>
      <div class="field">
        <label for="audit-actor">By user id</label>
        <input id="audit-actor" type="text" v-model="filters.actor_id" inputmode="numeric" class="admin-id-input">
      </div>
      <div class="field">
        <label for="audit-type">Object type</label>
        <select id="audit-type" v-model="filters.object_type">
          <option value="">Any</option>
          <option v-for="type in OBJECT_TYPES" :key="type" :value="type">{{ type }}</option>
        </select>
      </div>
      <div class="field">
        <label for="audit-object">Object id</label>
        <input id="audit-object" type="text" v-model="filters.object_id" inputmode="numeric" class="admin-id-input">
      </div>
      <div class="row admin-filters__buttons">
        <button type="submit" class="button">Apply</button>
        <button type="button" class="button button--ghost" @click="reset">Clear</button>
      </div>
      <p v-if="filterError" class="field__error admin-filters__error" role="alert">{{ filterError }}</p>
    </form>

    <loading-spinner v-if="page === null" block label="Loading the audit log…"></loading-spinner>
    <section v-else class="card" aria-labelledby="audit-list-heading">
      <div class="admin-list-head">
        <h2 id="audit-list-heading">Entries</h2>
        <p class="muted" role="status">{{ page.total }} {{ page.total === 1 ? "entry" : "entries" }}</p>
      </div>
      <p v-if="!page.items.length" class="empty-state">No entry matches these filters.</p>
      <div v-else class="table-wrap">
        <table class="admin-table admin-audit">
          <caption class="visually-hidden">Audit entries, newest first, page {{ pageNumber }} of {{ pages }}</caption>
          <thead>
            <tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">By</th><th scope="col">Object</th><th scope="col">Details</th><th scope="col" class="admin-col-optional">Address</th></tr>
          </thead>
          <tbody>
            <tr v-for="entry in page.items" :key="entry.id">
              <td class="admin-nowrap">{{ formatDateTime(entry.created_at) }}</td>
              <td><span class="admin-action" :title="entry.action">{{ actionLabel(entry.action) }}</span></td>
              <td class="admin-nowrap">{{ entry.actor_id === null ? "system" : "user " + entry.actor_id }}</td>
              <td class="admin-nowrap">{{ entry.object_type }}{{ entry.object_id === null ? "" : " " + entry.object_id }}</td>
              <td class="admin-details">{{ details(entry) }}</td>
              <td class="admin-nowrap muted admin-col-optional">{{ entry.address || "—" }}</td>
            </tr>
          </tbody>
        </table>
      </div>
      <nav v-if="pages > 1" class="admin-pager" aria-label="Pages of the audit log">
        <button type="button" class="button button--secondary button--small" :disabled="pageNumber <= 1" @click="load(pageNumber - 1)">Newer</button>
        <span>Page {{ pageNumber }} of {{ pages }}</span>
        <button type="button" class="button button--secondary button--small" :disabled="pageNumber >= pages" @click="load(pageNumber + 1)">Older</button>
      </nav>
    </section>`,
});
