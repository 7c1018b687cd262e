// One attempt's result as the test's review mode allows: score, pass, each answer (with its
// marking and the correct answer when shown), and the proctoring events recorded. Once the
// attempt is handed in, a wrong answer can be explained and the teaching assistant answers questions.
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

    // The tutor: the server refuses both while the attempt is in progress, so they show after it.
    const closed = computed(() => attempt.value && attempt.value.status !== "in_progress");
    const explained = ref({}); // question_id → {busy, error, result}
    const explainable = (row) => closed.value && row.is_correct === false && Boolean(row.correct_answer);
    async function explain(row) {
      explained.value = { ...explained.value, [row.question_id]: { busy: true, error: "", result: null } };
      let entry;
      try {
        const result = await api.post("/api/ai/explain-answer", { question_id: row.question_id, student_answer: row.answer ?? "" });
        entry = { busy: false, error: "", result };
      } catch (error) {
        entry = { busy: false, error: error.message, result: null };
      }
      explained.value = { ...explained.value, [row.question_id]: entry };
    }
    const asked = ref("");
    const asking = ref(false);
    const tutor = ref(null);
    const tutorError = ref("");
    async function ask(text) {
      const question = (text ?? asked.value).trim();
      if (!question || asking.value) return;
      asked.value = question;
      asking.value = true;
      tutorError.value = "";
      try {
        tutor.value = await api.post("/api/ai/teaching-assist", { question, context: { test_id: attempt.value.test_id } });
      } catch (error) {
        tutorError.value = error.message;
      } finally {
        asking.value = false;
      }
    }
    return {
      closed, explained, explainable, explain, asked, asking, tutor, tutorError, ask,
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
              <div v-if="explainable(row)" class="tutor-explain">
                <button v-if="!explained[row.question_id] || explained[row.question_id].error" type="button" class="button button--secondary button--small"
                        :aria-label="'Explain question ' + row.number" @click="explain(row)">Explain</button>
                <p v-if="explained[row.question_id] && explained[row.question_id].busy" class="muted" role="status">Working out an explanation…</p>
                <p v-else-if="explained[row.question_id] && explained[row.question_id].error" class="notice notice--error" role="alert">{{ explained[row.question_id].error }}</p>
                <div v-else-if="explained[row.question_id] && explained[row.question_id].result" class="tutor-explain__body" role="status">
                  <h4 class="tutor-explain__title">Why</h4>
                  <p class="tutor-explain__text">{{ explained[row.question_id].result.explanation }}</p>
                  <template v-if="explained[row.question_id].result.learning_resources.length">
                    <h4 class="tutor-explain__title">Read again</h4>
                    <ul class="tutor-sources">
                      <li v-for="source in explained[row.question_id].result.learning_resources" :key="source.material_id + '-' + source.page + '-' + source.passage.slice(0, 20)">
                        <span class="tutor-sources__where">{{ source.title }}, page {{ source.page }}</span>
                        <blockquote>{{ source.passage }}</blockquote>
                      </li>
                    </ul>
                  </template>
                </div>
              </div>
            </li>
          </ol>
        </section>

        <section v-if="closed" class="card result-section tutor-box" aria-labelledby="tutor-title">
          <h2 id="tutor-title">Ask the teaching assistant</h2>
          <p class="muted">Questions about this test's topic are answered from your teacher's course material.</p>
          <form class="tutor-box__form" @submit.prevent="ask()">
            <label for="tutor-question" class="visually-hidden">Your question</label>
            <textarea id="tutor-question" v-model="asked" rows="2" maxlength="2000" placeholder="For example: what does the mitochondrion do?"></textarea>
            <button type="submit" class="button" :disabled="asking || !asked.trim()">Ask</button>
          </form>
          <p v-if="asking" class="muted" role="status">Looking through the material…</p>
          <p v-if="tutorError" class="notice notice--error" role="alert">{{ tutorError }}</p>
          <div v-if="tutor && !asking" class="tutor-box__answer" role="status">
            <p class="tutor-explain__text">{{ tutor.answer }}</p>
            <ul v-if="tutor.sources.length" class="tutor-sources">
              <li v-for="source in tutor.sources" :key="source.material_id + '-' + source.page + '-' + source.passage.slice(0, 20)">
                <span class="tutor-sources__where">{{ source.title }}, page {{ source.page }}</span>
                <blockquote>{{ source.passage }}</blockquote>
              </li>
            </ul>
            <div v-if="tutor.follow_up_questions.length" class="tutor-box__follow" role="group" aria-label="Ask next">
              <span class="tutor-box__next" aria-hidden="true">Ask next:</span>
              <button v-for="next in tutor.follow_up_questions" :key="next" type="button" class="button button--ghost button--small" @click="ask(next)">{{ next }}</button>
            </div>
          </div>
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
