// The student's home: a test in progress to resume, the tests open to them, their history with
// scores and a chart of their percent over time.
import { computed, defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import LineChart from "../components/LineChart.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";

const STATUS_WORDS = {
  in_progress: "In progress",
  submitted: "Submitted",
  auto_submitted: "Auto-submitted",
  terminated: "Ended by teacher",
};

function minutesText(minutes) {
  if (minutes >= 1) return `${Math.round(minutes * 10) / 10} min`;
  return `${Math.round(minutes * 60)} s`;
}

function shortDate(iso) {
  return new Date(iso).toLocaleDateString([], { day: "numeric", month: "short" });
}

function longDate(iso) {
  return new Date(iso).toLocaleString([], { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

export default defineComponent({
  name: "StudentDashboard",
  components: { LineChart, LoadingSpinner },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const tests = ref([]);
    const history = ref([]);
    const loading = ref(true);
    const failed = ref("");

    async function load() {
      loading.value = true;
      failed.value = "";
      try {
        const [page, rows] = await Promise.all([
          api.get("/api/tests?page_size=100"),
          api.get(`/api/results/student/${auth.user.id}`),
        ]);
        tests.value = page.items;
        history.value = rows;
      } catch (error) {
        failed.value = error.message;
        notices.error(error);
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);

    const inProgress = computed(() => history.value.filter((row) => row.status === "in_progress"));
    const closed = computed(() => history.value.filter((row) => row.status !== "in_progress"));
    const usedByTest = computed(() => {
      const used = {};
      for (const row of history.value) used[row.test_id] = (used[row.test_id] || 0) + 1;
      return used;
    });
    const openTests = computed(() =>
      tests.value.map((test) => {
        const used = usedByTest.value[test.id] || 0;
        const running = inProgress.value.some((row) => row.test_id === test.id);
        return { ...test, used, running, left: Math.max(0, test.max_attempts - used) };
      })
    );
    const points = computed(() =>
      [...closed.value]
        .filter((row) => row.percent != null)
        .sort((a, b) => Date.parse(a.submitted_at || a.started_at) - Date.parse(b.submitted_at || b.started_at))
        .map((row) => ({ label: shortDate(row.submitted_at || row.started_at), value: Math.round(row.percent) }))
    );
    // One passing line only when every charted attempt had the same pass mark.
    const reference = computed(() => {
      const marks = new Set(
        closed.value
          .filter((row) => row.percent != null)
          .map((row) => tests.value.find((test) => test.id === row.test_id)?.passing_score)
      );
      return marks.size === 1 && [...marks][0] != null ? [...marks][0] : null;
    });
    const average = computed(() => {
      if (!points.value.length) return null;
      return Math.round(points.value.reduce((sum, p) => sum + p.value, 0) / points.value.length);
    });
    const passedCount = computed(() => closed.value.filter((row) => row.passed).length);

    return {
      auth, loading, failed, load, inProgress, closed, openTests, points, reference, average, passedCount,
      STATUS_WORDS, minutesText, longDate,
    };
  },
  template: `
    <div class="student-dashboard">
      <header class="page-header">
        <div>
          <h1>My tests</h1>
          <p>Hello {{ auth.user.name }}. Take the tests open to you and follow your results.</p>
        </div>
      </header>

      <loading-spinner v-if="loading" block label="Loading your tests…"></loading-spinner>
      <div v-else-if="failed" class="notice notice--error" role="alert">
        <p>{{ failed }}</p>
        <button type="button" class="button button--secondary" @click="load">Try again</button>
      </div>
      <template v-else>
        <section v-if="inProgress.length" class="resume-banner" aria-labelledby="resume-title">
          <div>
            <h2 id="resume-title">You have a test in progress</h2>
            <p v-for="row in inProgress" :key="row.attempt_id">
              <strong>{{ row.test_title }}</strong>, started {{ longDate(row.started_at) }}. Your answers are saved and the timer is running.
            </p>
          </div>
          <router-link v-for="row in inProgress" :key="'go-' + row.attempt_id" class="button button--large"
                       :to="{ name: 'take-test', params: { testId: String(row.test_id) } }">Resume {{ row.test_title }}</router-link>
        </section>

        <section class="dashboard-section" aria-labelledby="open-title">
          <h2 id="open-title">Open tests</h2>
          <div v-if="!openTests.length" class="card empty-state">
            <p><strong>No tests are open to you yet.</strong></p>
            <p>When your teacher publishes a test, it appears here. Check back later or ask your teacher for the test's name.</p>
          </div>
          <ul v-else class="test-cards">
            <li v-for="test in openTests" :key="test.id" class="card test-card">
              <div class="test-card__body">
                <p class="test-card__subject">{{ test.subject || 'General' }}</p>
                <h3 class="test-card__title">{{ test.title }}</h3>
                <p v-if="test.description" class="test-card__description">{{ test.description }}</p>
                <ul class="test-card__facts">
                  <li>{{ test.question_count }} {{ test.question_count === 1 ? 'question' : 'questions' }}</li>
                  <li>{{ minutesText(test.time_limit) }}</li>
                  <li>Pass mark {{ test.passing_score }}%</li>
                  <li v-if="test.proctoring.camera_required">Camera required</li>
                </ul>
              </div>
              <div class="test-card__action">
                <router-link v-if="test.running" class="button" :to="{ name: 'take-test', params: { testId: String(test.id) } }"
                             :aria-label="'Resume ' + test.title">Resume</router-link>
                <router-link v-else-if="test.left > 0" class="button" :to="{ name: 'take-test', params: { testId: String(test.id) } }"
                             :aria-label="'Start ' + test.title">Start</router-link>
                <span v-else class="badge">No attempts left</span>
                <span v-if="test.max_attempts > 1 && !test.running" class="muted test-card__left">{{ test.left }} of {{ test.max_attempts }} attempts left</span>
              </div>
            </li>
          </ul>
        </section>

        <section class="dashboard-section" aria-labelledby="progress-title">
          <h2 id="progress-title">Your results</h2>
          <div v-if="!closed.length" class="card empty-state">
            <p><strong>No results yet.</strong></p>
            <p>Finish a test and your score and a chart of your progress show here.</p>
          </div>
          <div v-else class="results-grid">
            <div class="card chart-card">
              <h3>Score over time</h3>
              <line-chart v-if="points.length" :points="points" title="Your percent per submitted test, oldest first" :reference="reference"></line-chart>
              <p v-else class="muted">Your teacher has not shared scores yet.</p>
              <p v-if="reference !== null" class="chart-legend"><span class="chart-legend__pass" aria-hidden="true"></span>Pass mark {{ reference }}%</p>
            </div>
            <div class="card stats-card">
              <h3>At a glance</h3>
              <dl class="stats">
                <div><dt>Tests taken</dt><dd>{{ closed.length }}</dd></div>
                <div><dt>Passed</dt><dd>{{ passedCount }}</dd></div>
                <div><dt>Average</dt><dd>{{ average === null ? '—' : average + '%' }}</dd></div>
              </dl>
            </div>
          </div>
          <div v-if="closed.length" class="table-wrap history-table">
            <table>
              <caption class="visually-hidden">Your attempts, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Test</th>
                  <th scope="col">Date</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="number">Score</th>
                  <th scope="col">Result</th>
                  <th scope="col"><span class="visually-hidden">Details</span></th>
                </tr>
              </thead>
              <tbody>
                <tr v-for="row in closed" :key="row.attempt_id">
                  <td>{{ row.test_title }}</td>
                  <td>{{ longDate(row.submitted_at || row.started_at) }}</td>
                  <td>{{ STATUS_WORDS[row.status] || row.status }}</td>
                  <td class="number">{{ row.percent == null ? '—' : Math.round(row.percent) + '%' }}</td>
                  <td>
                    <span v-if="row.passed === true" class="badge badge--success">Passed</span>
                    <span v-else-if="row.passed === false" class="badge badge--danger">Not passed</span>
                    <span v-else class="muted">Not released</span>
                  </td>
                  <td><router-link :to="{ name: 'attempt-result', params: { attemptId: String(row.attempt_id) } }"
                                   :aria-label="'View result of ' + row.test_title + ', ' + longDate(row.submitted_at || row.started_at)">View result</router-link></td>
                </tr>
              </tbody>
            </table>
          </div>
        </section>
      </template>
    </div>`,
});
