// The administrator's overview: who uses the platform, what runs now, and whether its parts answer.
// Refreshed every 10 seconds while the page is open.
import { computed, defineComponent, onMounted, onUnmounted, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import { ROLES, ROLE_LABELS, formatClock, formatCount } from "./words.js";

const REFRESH_MS = 10_000;

export default defineComponent({
  name: "AdminHome",
  components: { LoadingSpinner },
  setup() {
    const notices = useNoticesStore();
    const stats = ref(null);
    const updatedAt = ref(null);
    const failed = ref(false);
    let timer = null;
    let loading = false;

    async function load() {
      if (loading) return;
      loading = true;
      try {
        stats.value = await api.get("/api/admin/stats");
        updatedAt.value = new Date();
        failed.value = false;
      } catch (error) {
        // One toast when the figures stop updating, not one every 10 seconds.
        if (!failed.value) notices.error(error, { title: "The figures could not be updated" });
        failed.value = true;
      } finally {
        loading = false;
      }
    }

    onMounted(() => {
      load();
      timer = setInterval(load, REFRESH_MS);
    });
    onUnmounted(() => clearInterval(timer));

    const roles = computed(() =>
      ROLES.map((role) => ({ role, label: ROLE_LABELS[role], count: stats.value?.users?.by_role?.[role] ?? null }))
    );
    const aiErrorPercent = computed(() => {
      const rate = stats.value?.ai?.error_rate;
      return rate === undefined || rate === null ? "—" : `${Math.round(rate * 100)} %`;
    });
    const fps = computed(() => {
      const value = stats.value?.live?.frames_per_second;
      return value === undefined ? "—" : value.toFixed(1);
    });
    const latency = computed(() => {
      const value = stats.value?.live?.inference_latency_ms;
      return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
    });
    return { stats, updatedAt, failed, roles, aiErrorPercent, fps, latency, load, formatClock, formatCount };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>Platform overview</h1>
        <p>Accounts, tests and live proctoring across the school, refreshed every 10 seconds.</p>
      </div>
      <router-link class="button" :to="{ name: 'admin-users' }">Manage users</router-link>
    </header>

    <loading-spinner v-if="stats === null" block label="Loading the figures…"></loading-spinner>

    <template v-else>
      <p class="admin-updated muted" role="status">
        <span v-if="failed" class="badge badge--warning">Not updating</span>
        Last updated {{ formatClock(updatedAt) }}
      </p>

      <section class="admin-health" aria-labelledby="health-heading">
        <h2 id="health-heading" class="visually-hidden">Health</h2>
        <div class="card admin-health__item">
          <h3>Database</h3>
          <p><span :class="['badge', stats.database === 'ok' ? 'badge--success' : 'badge--danger']">{{ stats.database === "ok" ? "Answering" : "Unavailable" }}</span></p>
          <p class="muted admin-health__note">Checked at every refresh. Accounts, tests and attempts are counted from it.</p>
        </div>
        <div class="card admin-health__item">
          <h3>AI provider</h3>
          <p>
            <span :class="['badge', stats.ai.reachable ? 'badge--success' : 'badge--danger']">{{ stats.ai.reachable ? "Reachable" : "Not reachable" }}</span>
          </p>
          <dl class="admin-facts">
            <div><dt>Provider</dt><dd>{{ stats.ai.provider }}</dd></div>
            <div><dt>Model</dt><dd>{{ stats.ai.model }}</dd></div>
            <div><dt>Last latency</dt><dd>{{ stats.ai.last_latency_ms === null ? "—" : Math.round(stats.ai.last_latency_ms) + " ms" }}</dd></div>
            <div><dt>Error rate</dt><dd>{{ aiErrorPercent }}</dd></div>
          </dl>
        </div>
      </section>

      <section aria-labelledby="now-heading">
        <h2 id="now-heading" class="admin-section-title">Right now</h2>
        <ul class="admin-metrics" aria-label="Live figures">
          <li class="card admin-metric"><span class="admin-metric__value">{{ formatCount(stats.attempts_in_progress) }}</span><span class="admin-metric__label">Attempts in progress</span></li>
          <li class="card admin-metric"><span class="admin-metric__value">{{ formatCount(stats.live.publishers) }}</span><span class="admin-metric__label">Cameras streaming</span></li>
          <li class="card admin-metric"><span class="admin-metric__value">{{ formatCount(stats.live.viewers) }}</span><span class="admin-metric__label">Teachers watching</span></li>
          <li class="card admin-metric"><span class="admin-metric__value">{{ fps }}</span><span class="admin-metric__label">Frames analysed / s</span></li>
          <li class="card admin-metric"><span class="admin-metric__value">{{ latency }}</span><span class="admin-metric__label">Inference latency</span></li>
          <li class="card admin-metric"><span :class="['admin-metric__value', { 'admin-metric__value--alert': stats.violations_last_hour }]">{{ formatCount(stats.violations_last_hour) }}</span><span class="admin-metric__label">Violations, last hour</span></li>
        </ul>
      </section>

      <div class="admin-columns">
        <section class="card" aria-labelledby="users-heading">
          <h2 id="users-heading">Users</h2>
          <p class="admin-lead" v-if="stats.users">{{ formatCount(stats.users.total) }} accounts, {{ formatCount(stats.users.active) }} active</p>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Users by role</caption>
              <thead><tr><th scope="col">Role</th><th scope="col" class="number">Accounts</th></tr></thead>
              <tbody>
                <tr v-for="row in roles" :key="row.role"><td>{{ row.label }}</td><td class="number">{{ formatCount(row.count) }}</td></tr>
              </tbody>
            </table>
          </div>
        </section>
        <section class="card" aria-labelledby="tests-heading">
          <h2 id="tests-heading">Tests</h2>
          <dl class="admin-facts admin-facts--large" v-if="stats.tests">
            <div><dt>All tests</dt><dd>{{ formatCount(stats.tests.total) }}</dd></div>
            <div><dt>Published</dt><dd>{{ formatCount(stats.tests.published) }}</dd></div>
            <div><dt>Drafts</dt><dd>{{ formatCount(stats.tests.total - stats.tests.published) }}</dd></div>
            <div><dt>Proctored now</dt><dd>{{ formatCount(stats.live.proctored_attempts) }}</dd></div>
          </dl>
          <p v-else class="muted">The database does not answer.</p>
          <router-link class="button button--secondary button--small" :to="{ name: 'admin-audit' }">Open the audit log</router-link>
        </section>
      </div>
    </template>`,
});
