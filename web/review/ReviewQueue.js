// The review queue: flagged attempts, most suspicious first, filtered by test and by whether
// anything is left to review.
import { computed, defineComponent, onMounted, ref, watch } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import { attemptStatus, formatNumber } from "../teacher/words.js";

export default defineComponent({
  name: "ReviewQueue",
  components: { LoadingSpinner },
  setup() {
    const notices = useNoticesStore();
    const rows = ref(null);
    const tests = ref([]);
    const testId = ref("");
    const unreviewedOnly = ref(true);
    const problem = ref("");

    async function load() {
      problem.value = "";
      try {
        const params = testId.value ? `?test_id=${encodeURIComponent(testId.value)}` : "";
        rows.value = await api.get(`/api/reviews/flagged${params}`);
        if (!testId.value) {
          const seen = new Map(rows.value.map((row) => [row.test_id, row.test_title]));
          tests.value = [...seen].map(([id, title]) => ({ id, title })).sort((a, b) => a.title.localeCompare(b.title));
        }
      } catch (error) {
        problem.value = error.message;
        notices.error(error, { title: "The review queue could not be loaded" });
      }
    }
    onMounted(load);
    watch(testId, load);

    const shown = computed(() => (rows.value || []).filter((row) => !unreviewedOnly.value || row.unreviewed > 0));
    return { rows, tests, testId, unreviewedOnly, problem, shown, attemptStatus, formatNumber };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>Review queue</h1>
        <p class="muted">Flagged attempts, most suspicious first. Open one to watch its clips and record a verdict.</p>
      </div>
    </header>
    <section class="card review-filters" aria-label="Filters">
      <div class="field">
        <label for="review-test">Test</label>
        <select id="review-test" v-model="testId">
          <option value="">All tests</option>
          <option v-for="test in tests" :key="test.id" :value="String(test.id)">{{ test.title }}</option>
        </select>
      </div>
      <label class="checkbox">
        <input type="checkbox" v-model="unreviewedOnly"> Only attempts with violations left to review
      </label>
    </section>
    <p v-if="problem" class="notice notice--error" role="alert">{{ problem }}</p>
    <loading-spinner v-else-if="rows === null" block label="Loading the queue…"></loading-spinner>
    <div v-else-if="shown.length === 0" class="card empty-state" role="status">
      <h2>Nothing to review</h2>
      <p>{{ rows.length ? "Every flagged attempt here has been reviewed." : "No attempt has been flagged yet." }}</p>
    </div>
    <div v-else class="table-wrap card">
      <table>
        <caption class="visually-hidden">Flagged attempts</caption>
        <thead>
          <tr>
            <th scope="col">Student</th><th scope="col">Test</th><th scope="col">Status</th>
            <th scope="col" class="number">Suspicion</th><th scope="col" class="number">Violations</th>
            <th scope="col" class="number">To review</th><th scope="col"><span class="visually-hidden">Open</span></th>
          </tr>
        </thead>
        <tbody>
          <tr v-for="row in shown" :key="row.attempt_id">
            <td>{{ row.student_name }}</td>
            <td>{{ row.test_title }}</td>
            <td><span :class="['badge', attemptStatus(row.status).badge]">{{ attemptStatus(row.status).label }}</span></td>
            <td class="number"><span class="review-score">{{ formatNumber(row.suspicion_score, 1) }}</span></td>
            <td class="number">{{ row.violation_count }}</td>
            <td class="number">
              <span v-if="row.unreviewed" class="badge badge--warning">{{ row.unreviewed }}</span>
              <span v-else class="badge badge--success">Done</span>
            </td>
            <td>
              <router-link class="button button--small" :to="{ name: 'review-attempt', params: { attemptId: String(row.attempt_id) } }"
                :aria-label="'Review the attempt of ' + row.student_name + ' on ' + row.test_title">Review</router-link>
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  `,
});
