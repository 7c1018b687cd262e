// One attempt in detail for its teacher: who, when, the score, each question with the answer
// given, whether it is right and the points, and every violation recorded.
import { computed, defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import {
  attemptStatus, formatDateTime, formatNumber, formatPercent, formatPoints, questionTypeLabel,
  severityBadge, severityLabel, violationSource, violationType,
} from "./words.js";

function shownAnswer(question, answer) {
  if (answer === null || answer === undefined || answer === "") return "";
  if (question?.question_type === "true_false") return answer === "true" ? "True" : answer === "false" ? "False" : answer;
  return answer;
}

export default defineComponent({
  name: "AttemptReview",
  components: { LoadingSpinner },
  props: {
    attemptId: { type: String, required: true },
  },
  setup(props) {
    const notices = useNoticesStore();
    const attempt = ref(null);
    const test = ref(null);
    const problem = ref("");

    onMounted(async () => {
      try {
        attempt.value = await api.get(`/api/attempts/${props.attemptId}`);
        test.value = await api.get(`/api/tests/${attempt.value.test_id}`);
      } catch (error) {
        problem.value = error.message;
        notices.error(error, { title: "The attempt could not be opened" });
      }
    });

    // The test's questions in order, each with the answer given (the attempt lists answers by id).
    const items = computed(() => {
      if (!attempt.value) return [];
      const answers = Object.fromEntries(attempt.value.answers.map((answer) => [answer.question_id, answer]));
      const questions = test.value?.questions || attempt.value.answers.map((answer) => ({ id: answer.question_id }));
      return questions.map((question, index) => {
        const answer = answers[question.id] || { answer: null, is_correct: null, points_awarded: null, correct_answer: null };
        const given = shownAnswer(question, answer.answer);
        let verdict = { label: "Not marked yet", badge: "" };
        if (!given) verdict = { label: "Not answered", badge: "badge--warning" };
        else if (answer.is_correct === true) verdict = { label: "Correct", badge: "badge--success" };
        else if (answer.is_correct === false) verdict = { label: "Incorrect", badge: "badge--danger" };
        return {
          number: index + 1,
          question,
          given,
          verdict,
          correct: shownAnswer(question, answer.correct_answer ?? question.correct_answer),
          awarded: answer.points_awarded,
        };
      });
    });

    const status = computed(() => attempt.value && attemptStatus(attempt.value.status));
    const violations = computed(() =>
      [...(attempt.value?.violations || [])].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.id - b.id)
    );
    return {
      attempt, test, problem, items, status, violations,
      formatDateTime, formatNumber, formatPercent, formatPoints, questionTypeLabel,
      severityBadge, severityLabel, violationSource, violationType,
    };
  },
  template: `
    <loading-spinner v-if="!attempt && !problem" block label="Opening the attempt…"></loading-spinner>
    <div v-else-if="problem" class="card">
      <h1>Attempt</h1>
      <p class="notice notice--error" role="alert">{{ problem }}</p>
      <router-link :to="{ name: 'teacher-home' }">Back to my tests</router-link>
    </div>
    <template v-else>
      <header class="page-header">
        <div>
          <p class="teacher-crumbs">
            <router-link :to="{ name: 'teacher-home' }">My tests</router-link> <span aria-hidden="true">/</span>
            <router-link :to="{ name: 'test-results', params: { testId: String(attempt.test_id) } }">Results: {{ attempt.test_title }}</router-link>
            <span aria-hidden="true">/</span>
          </p>
          <h1>{{ attempt.student_name }}’s attempt</h1>
          <p>{{ attempt.test_title }}</p>
        </div>
        <span :class="['badge', 'teacher-badge--large', status.badge]">{{ status.label }}</span>
      </header>

      <section class="card teacher-section" aria-labelledby="summary-heading">
        <h2 id="summary-heading" class="visually-hidden">Summary</h2>
        <dl class="teacher-summary">
          <div><dt>Score</dt><dd>{{ attempt.score === null ? "—" : formatNumber(attempt.score, 2) + " / " + formatNumber(attempt.max_score, 2) }}</dd></div>
          <div><dt>Percent</dt><dd>{{ formatPercent(attempt.percent) }}
            <span v-if="attempt.passed !== null" :class="['badge', attempt.passed ? 'badge--success' : 'badge--danger']">{{ attempt.passed ? "Passed" : "Not passed" }}</span></dd></div>
          <div><dt>Started</dt><dd>{{ formatDateTime(attempt.started_at) }}</dd></div>
          <div><dt>{{ attempt.submitted_at ? "Submitted" : "Deadline" }}</dt><dd>{{ formatDateTime(attempt.submitted_at || attempt.deadline) }}</dd></div>
          <div><dt>Violations</dt><dd>{{ attempt.violation_count }}</dd></div>
          <div><dt>Suspicion score</dt><dd>{{ formatNumber(attempt.suspicion_score, 1) }}</dd></div>
        </dl>
        <p v-if="attempt.end_reason" class="notice notice--warning">Ended: {{ attempt.end_reason }}</p>
      </section>

      <section class="teacher-section" aria-labelledby="answers-heading">
        <h2 id="answers-heading">Answers</h2>
        <ol class="teacher-answers">
          <li v-for="item in items" :key="item.question.id" class="card teacher-answer" :aria-labelledby="'answer-' + item.question.id">
            <div class="teacher-answer__top">
              <h3 :id="'answer-' + item.question.id">Question {{ item.number }}</h3>
              <span v-if="item.question.question_type" class="muted">{{ questionTypeLabel(item.question.question_type) }}</span>
              <span :class="['badge', item.verdict.badge]">{{ item.verdict.label }}</span>
              <span class="teacher-answer__points">
                {{ item.awarded === null ? "—" : formatNumber(item.awarded, 2) }} / {{ item.question.points === undefined ? "—" : formatPoints(item.question.points) }}
              </span>
            </div>
            <p v-if="item.question.question_text" class="teacher-answer__question">{{ item.question.question_text }}</p>
            <dl class="teacher-answer__given">
              <div :class="'teacher-answer__box--' + (item.verdict.label === 'Correct' ? 'right' : item.verdict.label === 'Incorrect' ? 'wrong' : 'none')">
              <dt>Answer given</dt><dd>{{ item.given || "No answer" }}</dd>
            </div>
              <div v-if="item.correct && item.verdict.label !== 'Correct'"><dt>Correct answer</dt><dd>{{ item.correct }}</dd></div>
            </dl>
          </li>
        </ol>
      </section>

      <section class="teacher-section" aria-labelledby="violations-heading">
        <h2 id="violations-heading">Violations</h2>
        <p v-if="!violations.length" class="card empty-state">No violation was recorded during this attempt.</p>
        <div v-else class="table-wrap">
          <table>
            <caption class="visually-hidden">Violations in time order</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">What happened</th><th scope="col">Severity</th><th scope="col">Noticed by</th><th scope="col">Details</th></tr></thead>
            <tbody>
              <tr v-for="violation in violations" :key="violation.id">
                <td>{{ formatDateTime(violation.timestamp) }}</td>
                <td>{{ violationType(violation.type) }}</td>
                <td><span :class="['badge', severityBadge(violation.severity)]">{{ severityLabel(violation.severity) }}</span></td>
                <td>{{ violationSource(violation.source) }}</td>
                <td>{{ violation.description || "—" }}</td>
              </tr>
            </tbody>
          </table>
        </div>
      </section>
    </template>`,
});
