// How an attempt ended: submitted, auto-submitted at the deadline, or ended by the teacher;
// with the score of the saved answers when the test's review mode shows it.
import { computed, defineComponent } from "vue";
import LoadingSpinner from "../components/LoadingSpinner.js";

export default defineComponent({
  name: "TestEndScreen",
  components: { LoadingSpinner },
  props: {
    status: { type: String, required: true },
    reason: { type: String, default: null },
    result: { type: Object, default: null },
    attemptId: { type: Number, required: true },
    title: { type: String, default: "" },
  },
  setup(props) {
    const heading = computed(() => {
      if (props.status === "auto_submitted") return "Time is up: your test was submitted";
      if (props.status === "terminated") return "Your teacher ended this test";
      return "Your test is submitted";
    });
    const explanation = computed(() => {
      if (props.status === "auto_submitted") {
        return "The time limit passed, so the server submitted the answers it had saved. Answers saved before the deadline count.";
      }
      if (props.status === "terminated") return "The attempt is closed and no more answers can be saved. The answers saved before it ended are kept.";
      return "Your answers are in.";
    });
    const reasonText = computed(() => (props.reason && props.reason !== "deadline" ? props.reason : ""));
    const scored = computed(() => props.result && props.result.percent != null);
    const answeredCount = computed(() => (props.result?.answers || []).filter((a) => a.answer != null && a.answer !== "").length);
    const tone = computed(() => (props.status === "terminated" ? "danger" : props.status === "auto_submitted" ? "warning" : "success"));
    return { heading, explanation, reasonText, scored, answeredCount, tone };
  },
  template: `
    <section :class="['card', 'end-screen', 'end-screen--' + tone]" aria-labelledby="end-title" data-testid="end-screen">
      <p class="step-label">{{ title }}</p>
      <h2 id="end-title" tabindex="-1">{{ heading }}</h2>
      <p>{{ explanation }}</p>
      <p v-if="reasonText" class="notice notice--warning"><strong>Reason given:</strong> {{ reasonText }}</p>
      <loading-spinner v-if="!result" label="Getting your result…"></loading-spinner>
      <div v-else-if="scored" class="end-screen__score" role="status">
        <p class="score-big">{{ Math.round(result.percent) }}%</p>
        <p>{{ result.score }} of {{ result.max_score }} points from {{ answeredCount }} saved {{ answeredCount === 1 ? 'answer' : 'answers' }}
          <span :class="['badge', result.passed ? 'badge--success' : 'badge--danger']">{{ result.passed ? 'Passed' : 'Not passed' }}</span>
        </p>
      </div>
      <p v-else class="muted" role="status">Your teacher shares the score of this test later. {{ answeredCount }} saved {{ answeredCount === 1 ? 'answer was' : 'answers were' }} handed in.</p>
      <div class="row">
        <router-link v-if="result" class="button" :to="{ name: 'attempt-result', params: { attemptId: String(attemptId) } }">See your result</router-link>
        <router-link class="button button--secondary" :to="{ name: 'student-home' }">Back to my tests</router-link>
      </div>
    </section>`,
});
