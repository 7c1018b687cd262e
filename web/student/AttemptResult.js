// One attempt's result as the test's review mode allows: score, pass, each answer (with its
// marking and the correct answer when shown), and the proctoring events recorded.
import { computed, defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";

const STATUS_WORDS = {
  in_progress: "In progress",
  submitted: "Submitted",
  auto_submitted: "Submitted automatically at the time limit",
  terminated: "Ended by your teacher",
};
const EVENT_WORDS = {
  tab_switch: "Left the test's tab",
  window_blur: "Window lost focus",
  fullscreen_exit: "Left full screen",
  copy_paste: "Copied or pasted",
  devtools: "Developer tools",
  context_menu: "Opened the context menu",
  print_screen: "Screenshot key",
  no_face: "No face in view",
  multiple_faces: "More than one face",
  looking_away: "Looking away",
  voice_detected: "Voice heard",
  camera_lost: "Camera lost",
  camera_obstructed: "Camera covered",
  video_unusable: "Camera picture unusable",
};
const SEVERITY_BADGE = { low: "badge--info", medium: "badge--warning", high: "badge--danger", critical: "badge--danger" };

function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
}

export default defineComponent({
  name: "AttemptResult",
  components: { LoadingSpinner },
  props: {
    attemptId: { type: String, required: true },
  },
  setup(props) {
    const attempt = ref(null);
    const test = ref(null);
    const failed = ref("");

    async function load() {
      failed.value = "";
      try {
        attempt.value = await api.get(`/api/attempts/${props.attemptId}`);
        try {
          test.value = await api.get(`/api/tests/${attempt.value.test_id}`);
        } catch {
          test.value = null; // unpublished since: the answers still show, without the questions' text
        }
      } catch (error) {
        failed.value = error.message;
      }
    }
    onMounted(() => {
      if (document.fullscreenElement && document.exitFullscreen) document.exitFullscreen().catch(() => {});
      load();
    });

    const questionsById = computed(() => Object.fromEntries((test.value?.questions || []).map((q) => [q.id, q])));
    const scored = computed(() => attempt.value && attempt.value.percent != null);
    const marking = computed(() => (attempt.value?.answers || []).some((a) => a.is_correct !== null && a.is_correct !== undefined));
    const rows = computed(() =>
      (attempt.value?.answers || []).map((answer, index) => {
        const question = questionsById.value[answer.question_id];
        return {
          ...answer,
          number: index + 1,
          text: question?.question_text || `Question ${index + 1}`,
          type: question?.question_type || "",
        };
      })
    );
    const shown = (row, value) => {
      if (value == null || value === "") return "";
      if (row.type === "true_false") return /^(true|t|yes|y)$/i.test(value) ? "True" : /^(false|f|no|n)$/i.test(value) ? "False" : value;
      return value;
    };
    const correctCount = computed(() => rows.value.filter((row) => row.is_correct).length);
    return {
      attempt, test, failed, load, scored, marking, rows, shown, correctCount,
      STATUS_WORDS, EVENT_WORDS, SEVERITY_BADGE, dateTime,
    };
  },
  template: `
    <div class="attempt-result">
      <loading-spinner v-if="!attempt && !failed" block label="Loading your result…"></loading-spinner>
      <section v-else-if="failed" class="card card--narrow">
        <h1>Result not available</h1>
        <p class="notice notice--error" role="alert">{{ failed }}</p>
        <router-link class="button" :to="{ name: 'student-home' }">Back to my tests</router-link>
      </section>
      <template v-else>
        <header class="page-header">
          <div>
            <p class="breadcrumb"><router-link :to="{ name: 'student-home' }">My tests</router-link> › Result</p>
            <h1>{{ attempt.test_title }}</h1>
            <p>{{ STATUS_WORDS[attempt.status] || attempt.status }}<span v-if="attempt.submitted_at"> · {{ dateTime(attempt.submitted_at) }}</span></p>
          </div>
        </header>

        <section class="card result-summary" aria-labelledby="summary-title">
          <h2 id="summary-title" class="visually-hidden">Score</h2>
          <template v-if="scored">
            <div :class="['score-ring', attempt.passed ? 'score-ring--pass' : 'score-ring--fail']">
              <span class="score-ring__value">{{ Math.round(attempt.percent) }}%</span>
            </div>
            <div class="result-summary__text">
              <p class="result-summary__verdict">
                <span :class="['badge', attempt.passed ? 'badge--success' : 'badge--danger']">{{ attempt.passed ? 'Passed' : 'Not passed' }}</span>
                <span v-if="test"> Pass mark {{ test.passing_score }}%</span>
              </p>
              <p><strong>{{ attempt.score }}</strong> of {{ attempt.max_score }} points<span v-if="marking"> · {{ correctCount }} of {{ rows.length }} correct</span></p>
              <p v-if="attempt.end_reason && attempt.end_reason !== 'deadline'" class="muted">Reason: {{ attempt.end_reason }}</p>
            </div>
          </template>
          <p v-else-if="attempt.status === 'in_progress'" class="notice notice--info">This attempt is still in progress.
            <router-link :to="{ name: 'take-test', params: { testId: String(attempt.test_id) } }">Resume it</router-link>.</p>
          <p v-else class="notice notice--info">Your answers are handed in. Your teacher shares the score of this test later.</p>
        </section>

        <section class="result-section" aria-labelledby="answers-title">
          <h2 id="answers-title">Your answers</h2>
          <p v-if="!marking && attempt.status !== 'in_progress'" class="muted">This test shows your answers without marking them.</p>
          <ol class="answer-list">
            <li v-for="row in rows" :key="row.question_id"
                :class="['card', 'answer-item', row.is_correct === true ? 'answer-item--right' : row.is_correct === false ? 'answer-item--wrong' : '']">
              <div class="answer-item__head">
                <h3>{{ row.number }}. {{ row.text }}</h3>
                <span v-if="row.is_correct === true" class="badge badge--success">Correct</span>
                <span v-else-if="row.is_correct === false" class="badge badge--danger">Incorrect</span>
              </div>
              <p><span class="muted">Your answer:</span> <strong v-if="row.answer">{{ shown(row, row.answer) }}</strong><em v-else>no answer</em></p>
              <p v-if="row.correct_answer && row.is_correct === false"><span class="muted">Correct answer:</span> <strong>{{ shown(row, row.correct_answer) }}</strong></p>
              <p v-if="row.points_awarded != null" class="muted answer-item__points">{{ row.points_awarded }} {{ row.points_awarded === 1 ? 'point' : 'points' }}</p>
            </li>
          </ol>
        </section>

        <section class="result-section" aria-labelledby="events-title">
          <h2 id="events-title">Proctoring events</h2>
          <p v-if="!attempt.violations.length" class="card empty-state">Nothing was flagged during this attempt.</p>
          <div v-else class="table-wrap">
            <table>
              <caption class="visually-hidden">Events recorded during the attempt</caption>
              <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Severity</th><th scope="col">Noticed by</th><th scope="col">Review</th></tr></thead>
              <tbody>
                <tr v-for="violation in attempt.violations" :key="violation.id">
                  <td>{{ dateTime(violation.timestamp) }}</td>
                  <td>{{ EVENT_WORDS[violation.type] || violation.type }}<span v-if="violation.description" class="muted"> · {{ violation.description }}</span></td>
                  <td><span :class="['badge', SEVERITY_BADGE[violation.severity] || '']">{{ violation.severity }}</span></td>
                  <td>{{ violation.source === 'browser' ? 'Your browser' : 'The proctoring server' }}</td>
                  <td>{{ violation.review ? (violation.review.decision === 'dismissed' ? 'Dismissed' : 'Confirmed') : 'Not reviewed' }}</td>
                </tr>
              </tbody>
            </table>
          </div>
        </section>
      </template>
    </div>`,
});
