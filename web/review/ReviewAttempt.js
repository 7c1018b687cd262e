// One flagged attempt under review: a time bar with a marker per violation, the list beside it,
// the selected violation's clip played inline through a signed link, and a verdict with a note.
// Keyboard: j / ArrowDown / ArrowRight next, k / ArrowUp / ArrowLeft previous, c confirm,
// d dismiss (not while typing).
import { computed, defineComponent, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import { formatNumber, formatTime, severityBadge, severityLabel, violationType } from "../teacher/words.js";

const NEXT_KEYS = ["j", "ArrowDown", "ArrowRight"];
const PREVIOUS_KEYS = ["k", "ArrowUp", "ArrowLeft"];

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export default defineComponent({
  name: "ReviewAttempt",
  components: { LoadingSpinner },
  props: {
    attemptId: { type: String, required: true },
  },
  setup(props) {
    const notices = useNoticesStore();
    const violations = ref(null);
    const summary = ref(null);
    const problem = ref("");
    const selectedIndex = ref(0);
    const note = ref("");
    const busy = ref(false);
    const clipUrl = ref("");
    const clipProblem = ref("");
    const announcement = ref("");

    async function loadSummary() {
      const queue = await api.get("/api/reviews/flagged");
      summary.value = queue.find((row) => row.attempt_id === Number(props.attemptId)) || null;
    }

    onMounted(async () => {
      try {
        violations.value = await api.get(`/api/attempts/${props.attemptId}/timeline`);
        await loadSummary();
      } catch (error) {
        problem.value = error.message;
        notices.error(error, { title: "The attempt could not be opened" });
      }
      window.addEventListener("keydown", onKey);
    });
    onBeforeUnmount(() => window.removeEventListener("keydown", onKey));

    const selected = computed(() => violations.value?.[selectedIndex.value] || null);
    const score = computed(() => (summary.value ? summary.value.suspicion_score : 0));

    // Positions on the time bar: from the first violation's start to the last one's end.
    const span = computed(() => {
      const times = (violations.value || []).flatMap((v) => [Date.parse(v.timestamp), Date.parse(v.ended_at || v.timestamp)]);
      if (!times.length) return { start: 0, length: 1 };
      const start = Math.min(...times);
      return { start, length: Math.max(Math.max(...times) - start, 1) };
    });
    function markerStyle(violation) {
      const at = ((Date.parse(violation.timestamp) - span.value.start) / span.value.length) * 100;
      return { left: `${Math.min(Math.max(at, 0), 100)}%` };
    }

    async function loadClip() {
      clipUrl.value = "";
      clipProblem.value = "";
      const violation = selected.value;
      if (!violation?.evidence_id) return;
      try {
        const link = await api.post(`/api/evidence/${violation.evidence_id}/link`);
        if (selected.value === violation) clipUrl.value = link.url;
      } catch (error) {
        clipProblem.value = error.message;
      }
    }
    watch(selected, () => {
      note.value = selected.value?.review?.note || "";
      loadClip();
    });

    function select(index) {
      if (!violations.value?.length) return;
      selectedIndex.value = Math.min(Math.max(index, 0), violations.value.length - 1);
    }

    async function decide(decision) {
      const violation = selected.value;
      if (!violation || busy.value) return;
      busy.value = true;
      try {
        const updated = await api.post(`/api/violations/${violation.id}/review`, { decision, note: note.value });
        violations.value = violations.value.map((v) => (v.id === updated.id ? updated : v));
        await loadSummary();
        announcement.value = `${violationType(updated.type)} ${decision}. Suspicion score now ${formatNumber(score.value, 1)}.`;
        notices.success(`Violation ${decision}.`);
      } catch (error) {
        notices.error(error, { title: "The verdict was not saved" });
      } finally {
        busy.value = false;
      }
    }

    function onKey(event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (NEXT_KEYS.includes(event.key)) select(selectedIndex.value + 1);
      else if (PREVIOUS_KEYS.includes(event.key)) select(selectedIndex.value - 1);
      else if (event.key === "c") decide("confirmed");
      else if (event.key === "d") decide("dismissed");
      else return;
      event.preventDefault();
    }

    function onClipError() {
      clipProblem.value = "The clip could not be played. It may have expired; select the violation again.";
    }

    return {
      violations, summary, problem, selectedIndex, selected, score, note, busy, clipUrl, clipProblem, announcement,
      markerStyle, select, decide, onClipError, formatNumber, formatTime, severityBadge, severityLabel, violationType,
    };
  },
  template: `
    <loading-spinner v-if="violations === null && !problem" block label="Opening the attempt…"></loading-spinner>
    <div v-else-if="problem" class="card">
      <h1>Review attempt</h1>
      <p class="notice notice--error" role="alert">{{ problem }}</p>
      <router-link :to="{ name: 'review-queue' }">Back to the review queue</router-link>
    </div>
    <template v-else>
      <header class="page-header">
        <div>
          <p class="review-crumbs"><router-link :to="{ name: 'review-queue' }">Review queue</router-link> <span aria-hidden="true">/</span></p>
          <h1>{{ summary ? summary.student_name + "’s attempt" : "Attempt " + attemptId }}</h1>
          <p v-if="summary" class="muted">{{ summary.test_title }}</p>
        </div>
        <div class="review-score-box">
          <span class="review-score-box__label">Suspicion score</span>
          <span class="review-score-box__value" data-testid="suspicion-score">{{ formatNumber(score, 1) }}</span>
        </div>
      </header>
      <p class="visually-hidden" role="status" aria-live="polite">{{ announcement }}</p>

      <section class="card review-timebar-card" aria-labelledby="timebar-heading">
        <h2 id="timebar-heading" class="review-small-heading">Timeline</h2>
        <div class="review-timebar">
          <button v-for="(violation, index) in violations" :key="violation.id" type="button"
            :class="['review-marker', 'review-marker--' + violation.severity, { 'review-marker--selected': index === selectedIndex, 'review-marker--dismissed': violation.review?.decision === 'dismissed' }]"
            :style="markerStyle(violation)" @click="select(index)"
            :aria-label="violationType(violation.type) + ' at ' + formatTime(violation.timestamp)"
            :aria-pressed="index === selectedIndex ? 'true' : 'false'"></button>
        </div>
        <div class="review-timebar__ends muted" v-if="violations.length">
          <span>{{ formatTime(violations[0].timestamp) }}</span>
          <span>{{ formatTime(violations[violations.length - 1].ended_at || violations[violations.length - 1].timestamp) }}</span>
        </div>
      </section>

      <div class="review-layout">
        <section class="card review-list" aria-labelledby="list-heading">
          <h2 id="list-heading" class="review-small-heading">Violations ({{ violations.length }})</h2>
          <p v-if="!violations.length" class="muted">This attempt has no violations.</p>
          <ol>
            <li v-for="(violation, index) in violations" :key="violation.id">
              <button type="button" :class="['review-item', { 'review-item--selected': index === selectedIndex }]"
                :aria-current="index === selectedIndex ? 'true' : null" @click="select(index)">
                <span class="review-item__top">
                  <strong>{{ violationType(violation.type) }}</strong>
                  <span :class="['badge', severityBadge(violation.severity)]">{{ severityLabel(violation.severity) }}</span>
                </span>
                <span class="review-item__meta">
                  {{ formatTime(violation.timestamp) }}
                  <span v-if="violation.evidence_id"> · clip</span>
                  <span v-if="violation.review" :class="violation.review.decision === 'dismissed' ? 'review-verdict--dismissed' : 'review-verdict--confirmed'">
                    · {{ violation.review.decision === "dismissed" ? "Dismissed" : "Confirmed" }}</span>
                </span>
              </button>
            </li>
          </ol>
        </section>

        <section class="card review-detail" aria-labelledby="detail-heading" v-if="selected">
          <h2 id="detail-heading">{{ violationType(selected.type) }} <span class="muted review-detail__time">at {{ formatTime(selected.timestamp) }}</span></h2>
          <p v-if="selected.description">{{ selected.description }}</p>
          <div class="review-player">
            <video v-if="clipUrl" :key="clipUrl" :src="clipUrl" controls preload="auto" playsinline
              :aria-label="'Evidence clip of ' + violationType(selected.type)" @error="onClipError"></video>
            <p v-else-if="!selected.evidence_id" class="review-player__empty">No clip was recorded for this violation.</p>
            <loading-spinner v-else-if="!clipProblem" label="Loading the clip…"></loading-spinner>
          </div>
          <p v-if="clipProblem" class="notice notice--error" role="alert">{{ clipProblem }}</p>
          <p v-if="selected.review" class="muted">
            Current verdict: <strong>{{ selected.review.decision === "dismissed" ? "Dismissed" : "Confirmed" }}</strong>
          </p>
          <div class="field">
            <label for="review-note">Note</label>
            <textarea id="review-note" v-model="note" rows="3" placeholder="What you saw in the clip"></textarea>
          </div>
          <div class="row review-actions">
            <button type="button" class="button button--danger" :disabled="busy" @click="decide('confirmed')">Confirm</button>
            <button type="button" class="button button--secondary" :disabled="busy" @click="decide('dismissed')">Dismiss</button>
          </div>
        </section>
      </div>

      <aside class="card review-keys" aria-labelledby="keys-heading">
        <h2 id="keys-heading" class="review-small-heading">Keyboard shortcuts</h2>
        <dl>
          <div><dt><kbd>j</kbd> / <kbd>↓</kbd></dt><dd>Next violation</dd></div>
          <div><dt><kbd>k</kbd> / <kbd>↑</kbd></dt><dd>Previous violation</dd></div>
          <div><dt><kbd>c</kbd></dt><dd>Confirm</dd></div>
          <div><dt><kbd>d</kbd></dt><dd>Dismiss</dd></div>
        </dl>
        <p class="muted">Shortcuts are off while you type in the note.</p>
      </aside>
    </template>
  `,
});
