// One student large: the relayed camera, their violations so far (the server's list and the
// ones arriving live), a warning to send to their screen, and ending their attempt.
import { computed, defineComponent, nextTick, ref, watch } from "vue";
import ConfirmDialog from "../components/ConfirmDialog.js";
import ModalDialog from "../components/ModalDialog.js";
import { useMonitorStore } from "../stores/monitor.js";
import { useNoticesStore } from "../stores/notices.js";
import { api } from "../api/client.js";
import { formatTime, severityBadge, severityLabel, violationSource, violationType } from "../teacher/words.js";
import { cameraText, connectionText, observationText } from "./words.js";

export default defineComponent({
  name: "StudentLiveDialog",
  components: { ConfirmDialog, ModalDialog },
  props: {
    student: { type: Object, default: null },
    stream: { type: Object, default: null },
  },
  emits: ["close"],
  setup(props, { emit }) {
    const monitor = useMonitorStore();
    const notices = useNoticesStore();
    const video = ref(null);
    const earlier = ref([]);
    const loading = ref(false);
    const message = ref("");
    const warnError = ref("");
    const sending = ref(false);
    const confirming = ref(false);
    const reason = ref("");
    const ending = ref(false);
    const shown = ref(null); // the student shown, kept while the dialog closes

    watch(
      () => props.student,
      async (student) => {
        if (!student) return;
        shown.value = student;
        message.value = "";
        warnError.value = "";
        reason.value = "";
        earlier.value = [];
        loading.value = true;
        try {
          earlier.value = await api.get(`/api/violations/${student.attemptId}`);
        } catch (error) {
          notices.error(error, { title: "The violations could not be loaded" });
        } finally {
          loading.value = false;
        }
      },
      { immediate: true }
    );
    watch(
      () => [props.stream, props.student],
      async () => {
        await nextTick();
        if (video.value && video.value.srcObject !== props.stream) video.value.srcObject = props.stream;
      },
      { immediate: true }
    );

    const violations = computed(() => {
      const all = new Map();
      for (const item of earlier.value) all.set(item.id, item);
      for (const item of shown.value?.violations || []) all.set(item.id, item);
      return [...all.values()].sort((a, b) => String(b.timestamp).localeCompare(String(a.timestamp)));
    });

    async function sendWarning() {
      const text = message.value.trim();
      if (!text) {
        warnError.value = "Write the warning the student will see.";
        return;
      }
      warnError.value = "";
      sending.value = true;
      try {
        const delivered = await monitor.warn(shown.value.attemptId, text);
        if (delivered) notices.success(`The warning is on ${shown.value.name}'s screen.`);
        else notices.warning(`${shown.value.name} is not connected: the warning did not reach them.`);
        message.value = "";
      } catch (error) {
        notices.error(error, { title: "The warning was not sent" });
      } finally {
        sending.value = false;
      }
    }

    async function terminate() {
      ending.value = true;
      const student = shown.value;
      try {
        await monitor.terminate(student.attemptId, reason.value.trim() || "Ended by the teacher during the test.");
        confirming.value = false;
        notices.success(`${student.name}'s attempt has ended.`);
        emit("close");
      } catch (error) {
        notices.error(error, { title: "The attempt was not ended" });
      } finally {
        ending.value = false;
      }
    }

    return {
      shown, video, violations, loading, message, warnError, sending, confirming, reason, ending,
      sendWarning, terminate, connectionText, cameraText, observationText,
      formatTime, severityBadge, severityLabel, violationSource, violationType,
    };
  },
  template: `
    <modal-dialog :open="Boolean(student)" :title="shown ? shown.name : 'Student'" wide @close="$emit('close')">
      <template v-if="shown">
        <div class="monitor-detail">
          <div class="monitor-detail__screen">
            <video ref="video" class="monitor-detail__video" muted autoplay playsinline :aria-label="'Camera of ' + shown.name"></video>
            <p class="monitor-detail__state muted">
              {{ connectionText(shown) }}<template v-if="cameraText(shown)"> · {{ cameraText(shown) }}</template>
              <template v-if="observationText(shown)"> · {{ observationText(shown) }}</template>
            </p>
          </div>
          <form class="form monitor-detail__warn" @submit.prevent="sendWarning" novalidate>
            <div class="field">
              <label for="monitor-warning">Warning to show on their screen</label>
              <textarea id="monitor-warning" v-model="message" rows="3" maxlength="500"
                        :aria-invalid="warnError ? 'true' : 'false'" :aria-describedby="warnError ? 'monitor-warning-error' : null"
                        placeholder="Please keep your eyes on your own screen."></textarea>
              <p v-if="warnError" id="monitor-warning-error" class="field__error" role="alert">{{ warnError }}</p>
            </div>
            <div class="row">
              <button type="submit" class="button" :disabled="sending">Send warning</button>
              <button type="button" class="button button--danger" @click="confirming = true">End attempt…</button>
            </div>
          </form>
        </div>
        <section class="monitor-detail__log" aria-labelledby="monitor-log-heading">
          <h3 id="monitor-log-heading">Violations so far</h3>
          <p v-if="loading" class="muted">Loading…</p>
          <p v-else-if="!violations.length" class="muted">None so far.</p>
          <ol v-else class="monitor-log">
            <li v-for="item in violations" :key="item.id" class="monitor-log__item">
              <span class="monitor-log__time">{{ formatTime(item.timestamp) }}</span>
              <span :class="['badge', severityBadge(item.severity)]">{{ severityLabel(item.severity) }}</span>
              <span class="monitor-log__what"><strong>{{ violationType(item.type) }}</strong>
                <span class="muted"> · {{ violationSource(item.source) }}</span></span>
            </li>
          </ol>
        </section>
      </template>
      <template #actions>
        <button type="button" class="button button--secondary" @click="$emit('close')">Close</button>
      </template>
    </modal-dialog>
    <confirm-dialog :open="confirming" :title="shown ? 'End ' + shown.name + '\\'s attempt?' : 'End the attempt?'"
                    confirm-label="End attempt" danger :busy="ending" @confirm="terminate" @cancel="confirming = false">
      <p>The test closes on their screen now and is marked as ended by the teacher. This cannot be undone.</p>
      <div class="field">
        <label for="monitor-reason">Reason (kept with the attempt)</label>
        <input id="monitor-reason" v-model="reason" type="text" maxlength="300" placeholder="Ended by the teacher during the test.">
      </div>
    </confirm-dialog>`,
});
