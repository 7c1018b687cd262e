// Taking a test: consent, device check, then the questions under proctoring (camera published
// over the live channel), a timer on the server's deadline, autosave, the teacher's warnings,
// and the end of the attempt, whichever way it comes.
import { computed, defineComponent, nextTick, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { useRouter } from "vue-router";
import { api } from "../api/client.js";
import ConfirmDialog from "../components/ConfirmDialog.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";
import { useProctoringStore } from "../stores/proctoring.js";
import { useQuizStore } from "../stores/quiz.js";
import ConsentPanel from "./ConsentPanel.js";
import DeviceCheck from "./DeviceCheck.js";
import QuestionCard from "./QuestionCard.js";
import QuestionPalette from "./QuestionPalette.js";
import TestEndScreen from "./TestEndScreen.js";
import TestTimer from "./TestTimer.js";

const LAYOUT_KEY = "protolearn.test-layout";
const CAMERA_WORDS = {
  live: "Camera live",
  connecting: "Connecting camera…",
  reconnecting: "Camera reconnecting…",
  unavailable: "No camera",
  off: "Camera off",
};

function clockTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export default defineComponent({
  name: "TakeTest",
  components: { ConfirmDialog, ConsentPanel, DeviceCheck, LoadingSpinner, QuestionCard, QuestionPalette, TestEndScreen, TestTimer },
  props: {
    testId: { type: String, required: true },
  },
  setup(props) {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const quiz = useQuizStore();
    const proctoring = useProctoringStore();
    const router = useRouter();

    const phase = ref("loading"); // loading, unavailable, consent, check, starting, running, ended
    const test = ref(null);
    const loadError = ref("");
    const resuming = ref(false);
    const busy = ref(false);
    const current = ref(0);
    const layout = ref(localStorage.getItem(LAYOUT_KEY) === "all" ? "all" : "one");
    const fullscreen = ref(Boolean(document.fullscreenElement));
    const confirming = ref(false);
    const submitting = ref(false);
    const main = ref(null);

    const cameraRequired = computed(() => Boolean(test.value?.proctoring?.camera_required));
    const questions = computed(() => quiz.questions);
    const shown = computed(() => (layout.value === "all" ? questions.value : questions.value.slice(current.value, current.value + 1)));
    const cameraWords = computed(() => CAMERA_WORDS[proctoring.status] || "");
    const saveWords = computed(() => {
      if (quiz.saveState === "saving") return "Saving…";
      if (quiz.saveState === "failed") return `Not saved: ${quiz.unsaved} ${quiz.unsaved === 1 ? "answer" : "answers"} kept on this device`;
      if (quiz.savedAt) return `Saved at ${clockTime(quiz.savedAt)}`;
      return "Answers save as you go";
    });
    const inTest = computed(() => phase.value === "starting" || phase.value === "running");

    async function load() {
      try {
        const [loaded, history] = await Promise.all([
          api.get(`/api/tests/${props.testId}`),
          api.get(`/api/results/student/${auth.user.id}`),
        ]);
        test.value = loaded;
        const mine = history.filter((row) => row.test_id === loaded.id);
        resuming.value = mine.some((row) => row.status === "in_progress");
        if (!resuming.value && mine.length >= loaded.max_attempts) {
          loadError.value = `You have used all ${loaded.max_attempts} ${loaded.max_attempts === 1 ? "attempt" : "attempts"} at this test.`;
          phase.value = "unavailable";
          return;
        }
        phase.value = "consent";
      } catch (error) {
        loadError.value = error.message;
        phase.value = "unavailable";
      }
    }

    function enterFullscreen() {
      const root = document.documentElement;
      if (!root.requestFullscreen || document.fullscreenElement) return;
      root.requestFullscreen({ navigationUI: "hide" }).catch(() => {
        // refused (an embedded frame, a browser setting): the test goes on, the button stays
      });
    }

    function leaveFullscreen() {
      if (document.fullscreenElement && document.exitFullscreen) document.exitFullscreen().catch(() => {});
    }

    async function start() {
      enterFullscreen(); // first, while the click still counts as a user gesture
      busy.value = true;
      try {
        await quiz.begin(props.testId);
      } catch (error) {
        busy.value = false;
        notices.error(error, { title: "The test could not start" });
        leaveFullscreen();
        return;
      }
      quiz.whenEnded(onEnded);
      quiz.whenExtraTime((minutes) =>
        notices.info(`Your teacher gave you ${minutes} more ${minutes === 1 ? "minute" : "minutes"}.`, { title: "Extra time", seconds: 10 })
      );
      const firstUnanswered = questions.value.findIndex((q) => !quiz.answered(q.id));
      current.value = Math.max(0, firstUnanswered);
      phase.value = "starting";
      if (quiz.ended) {
        busy.value = false;
        onEnded(); // it closed while resuming (the deadline passed meanwhile)
        return;
      }
      listen();
      const monitoring = proctoring.start(quiz.attempt.attemptId);
      if (cameraRequired.value) await monitoring; // the first question waits for the server's monitoring-started
      busy.value = false;
      if (phase.value === "starting") {
        phase.value = "running";
        await nextTick();
        main.value?.focus();
      }
    }

    function onEnded() {
      phase.value = "ended";
      confirming.value = false;
      proctoring.stop({ release: true });
      leaveFullscreen();
      unlisten();
    }

    // --- browser events, reported as the contract names them ---------------------------
    function onVisibility() {
      if (document.hidden) quiz.reportEvent("tab_switch", "The test's tab was hidden");
    }
    function onBlur() {
      setTimeout(() => {
        if (!document.hidden && !document.hasFocus()) quiz.reportEvent("window_blur", "The test's window lost focus");
      }, 0);
    }
    function onFullscreenChange() {
      const now = Boolean(document.fullscreenElement);
      if (fullscreen.value && !now && inTest.value) quiz.reportEvent("fullscreen_exit", "Left full screen");
      fullscreen.value = now;
    }
    function onClipboard(event) {
      quiz.reportEvent("copy_paste", `${event.type} in the test page`);
    }
    function onContextMenu(event) {
      event.preventDefault();
      quiz.reportEvent("context_menu", "Opened the context menu");
    }
    function listen() {
      document.addEventListener("visibilitychange", onVisibility);
      window.addEventListener("blur", onBlur);
      document.addEventListener("copy", onClipboard);
      document.addEventListener("cut", onClipboard);
      document.addEventListener("paste", onClipboard);
      document.addEventListener("contextmenu", onContextMenu);
    }
    function unlisten() {
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("blur", onBlur);
      document.removeEventListener("copy", onClipboard);
      document.removeEventListener("cut", onClipboard);
      document.removeEventListener("paste", onClipboard);
      document.removeEventListener("contextmenu", onContextMenu);
    }

    // --- navigating the questions --------------------------------------------------------
    function go(index) {
      current.value = Math.max(0, Math.min(questions.value.length - 1, index));
      if (layout.value === "all") {
        const id = questions.value[current.value]?.id;
        nextTick(() => document.querySelector(`[data-question-id="${id}"]`)?.scrollIntoView({ block: "start" }));
      }
    }
    function setLayout(next) {
      layout.value = next;
      localStorage.setItem(LAYOUT_KEY, next);
    }
    function indexOf(question) {
      return questions.value.findIndex((q) => q.id === question.id);
    }

    // --- submitting ------------------------------------------------------------------------
    async function submit() {
      submitting.value = true;
      try {
        const result = await quiz.submit();
        confirming.value = false;
        if (result) {
          proctoring.stop({ release: true });
          leaveFullscreen();
          notices.success("Your test is submitted.");
          router.push({ name: "attempt-result", params: { attemptId: String(result.attempt_id) } });
        }
      } catch (error) {
        notices.error(error, { title: "Not submitted yet" });
      } finally {
        submitting.value = false;
      }
    }

    watch(
      () => quiz.ended,
      (ended) => {
        if (ended && inTest.value) onEnded();
      }
    );

    onMounted(() => {
      document.addEventListener("fullscreenchange", onFullscreenChange);
      load();
    });
    onBeforeUnmount(() => {
      document.removeEventListener("fullscreenchange", onFullscreenChange);
      unlisten();
      if (quiz.attempt && !quiz.ended) quiz.save();
      proctoring.stop({ release: true });
      quiz.reset();
      leaveFullscreen();
    });

    return {
      quiz, proctoring, phase, test, loadError, resuming, busy, current, layout, fullscreen, confirming,
      submitting, main, cameraRequired, questions, shown, cameraWords, saveWords, inTest,
      start, go, setLayout, indexOf, submit, enterFullscreen,
      acceptConsent: () => {
        phase.value = "check";
      },
    };
  },
  template: `
    <div class="take-test">
      <div v-if="phase === 'loading'" class="take-test__narrow"><loading-spinner block label="Loading the test…"></loading-spinner></div>

      <section v-else-if="phase === 'unavailable'" class="card card--narrow">
        <h1>This test cannot be taken</h1>
        <p class="notice notice--warning">{{ loadError }}</p>
        <router-link class="button" :to="{ name: 'student-home' }">Back to my tests</router-link>
      </section>

      <div v-else-if="phase === 'consent' || phase === 'check'" class="take-test__narrow">
        <header class="page-header">
          <div>
            <h1>{{ resuming ? 'Resume: ' : '' }}{{ test.title }}</h1>
            <p>{{ test.subject || 'Test' }} · {{ test.question_count }} {{ test.question_count === 1 ? 'question' : 'questions' }} · pass mark {{ test.passing_score }}%</p>
          </div>
        </header>
        <consent-panel v-if="phase === 'consent'" :test="test" :resuming="resuming" @accept="acceptConsent"></consent-panel>
        <device-check v-else :test="test" :resuming="resuming" :busy="busy" @start="start"></device-check>
      </div>

      <template v-else-if="inTest">
        <header class="exam-bar">
          <div class="exam-bar__title">
            <h1>{{ test.title }}</h1>
            <p class="exam-bar__save" role="status" aria-live="polite" data-testid="save-status">{{ saveWords }}</p>
          </div>
          <test-timer :deadline="quiz.deadline" :offset="quiz.offset" @expired="quiz.runOut()"></test-timer>
          <div class="exam-bar__tools">
            <span :class="['camera-pill', 'camera-pill--' + proctoring.status]" role="status" data-testid="camera-status">
              <span class="camera-pill__dot" aria-hidden="true"></span>{{ cameraWords }}
            </span>
            <button v-if="!fullscreen" type="button" class="button button--small button--secondary" @click="enterFullscreen">Return to full screen</button>
          </div>
        </header>

        <div v-if="quiz.saveState === 'failed'" class="offline-banner" role="alert" data-testid="offline-banner">
          <p><strong>Your answers are not reaching the server.</strong> {{ quiz.saveError }}
            They are kept on this device and sent as soon as the connection is back. Keep this tab open.</p>
          <button type="button" class="button button--small button--secondary" @click="quiz.save()">Try now</button>
        </div>

        <div v-if="phase === 'starting'" class="card take-test__narrow connecting">
          <loading-spinner block :label="proctoring.status === 'reconnecting' || proctoring.status === 'connecting' ? 'Connecting your camera to the proctoring server…' : 'Starting…'"></loading-spinner>
          <p class="muted">The first question appears once the server receives your camera. The timer is already running.</p>
          <p v-if="proctoring.lastError" class="muted">Last problem: {{ proctoring.lastError }}. Trying again…</p>
        </div>

        <div v-else-if="quiz.timeUp" class="card take-test__narrow time-up" role="alert">
          <h2>Time is up</h2>
          <p>Your saved answers are being submitted. This takes a few seconds.</p>
          <loading-spinner label="Waiting for the server to close the attempt…"></loading-spinner>
        </div>

        <div v-else class="exam-layout">
          <aside class="exam-layout__side">
            <question-palette :questions="questions" :answers="quiz.answers" :marked="quiz.marked" :current="layout === 'one' ? current : -1" @go="go"></question-palette>
            <div class="layout-toggle" role="group" aria-label="Questions shown">
              <button type="button" :class="['button', 'button--small', layout === 'one' ? '' : 'button--secondary']" :aria-pressed="layout === 'one' ? 'true' : 'false'" @click="setLayout('one')">One per screen</button>
              <button type="button" :class="['button', 'button--small', layout === 'all' ? '' : 'button--secondary']" :aria-pressed="layout === 'all' ? 'true' : 'false'" @click="setLayout('all')">All on one page</button>
            </div>
          </aside>
          <section ref="main" class="exam-layout__main" tabindex="-1" aria-label="Questions">
            <question-card v-for="question in shown" :key="question.id" :question="question" :number="indexOf(question) + 1"
                           :total="questions.length" :answer="quiz.answers[question.id] ?? null" :marked="Boolean(quiz.marked[question.id])"
                           @answer="(value) => quiz.setAnswer(question.id, value)" @toggle-mark="quiz.toggleMarked(question.id)"></question-card>
            <div class="exam-nav">
              <template v-if="layout === 'one'">
                <button type="button" class="button button--secondary" :disabled="current === 0" @click="go(current - 1)">← Previous</button>
                <button type="button" class="button button--secondary" :disabled="current >= questions.length - 1" @click="go(current + 1)">Next →</button>
              </template>
              <button type="button" class="button exam-nav__submit" @click="confirming = true">Submit test</button>
            </div>
          </section>
        </div>

        <confirm-dialog :open="confirming" title="Submit your test?" confirm-label="Submit test" cancel-label="Keep working"
                        :busy="submitting" @confirm="submit" @cancel="confirming = false">
          <p v-if="quiz.unanswered.length" class="notice notice--warning">
            You have not answered {{ quiz.unanswered.length }} of {{ questions.length }} {{ questions.length === 1 ? 'question' : 'questions' }}:
          </p>
          <ul v-if="quiz.unanswered.length" class="unanswered-list" data-testid="unanswered">
            <li v-for="question in quiz.unanswered" :key="question.id">Question {{ indexOf(question) + 1 }}: {{ question.question_text }}</li>
          </ul>
          <p v-else>You answered all {{ questions.length }} questions.</p>
          <p>Once submitted, you cannot change your answers.</p>
        </confirm-dialog>

        <confirm-dialog :open="Boolean(proctoring.warning)" title="A message from your teacher" confirm-label="I understand"
                        hide-cancel @confirm="proctoring.dismissWarning()">
          <p class="warning-message" data-testid="warning-message">{{ proctoring.warning?.message }}</p>
          <p class="muted">Your teacher is watching this test live. The test goes on.</p>
        </confirm-dialog>
      </template>

      <div v-else-if="phase === 'ended'" class="take-test__narrow">
        <h1 class="visually-hidden">{{ test.title }}</h1>
        <test-end-screen :status="quiz.ended.status" :reason="quiz.ended.reason" :result="quiz.ended.result"
                         :attempt-id="quiz.attempt.attemptId" :title="test.title"></test-end-screen>
      </div>
    </div>`,
});
