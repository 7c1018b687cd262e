// Extra time for one attempt in progress: minutes and a reason (kept in the audit log); the
// server moves the deadline and tells the student's page.
import { defineComponent, reactive, ref, watch } from "vue";
import { api } from "../api/client.js";
import { useNoticesStore } from "../stores/notices.js";
import ModalDialog from "../components/ModalDialog.js";
import { formatTime } from "./words.js";

export default defineComponent({
  name: "ExtraTimeDialog",
  components: { ModalDialog },
  props: {
    attempt: { type: Object, default: null }, // a results row: attempt_id, student_name, deadline
  },
  emits: ["close", "extended"],
  setup(props, { emit }) {
    const notices = useNoticesStore();
    const form = reactive({ minutes: 10, reason: "" });
    const busy = ref(false);
    const problem = ref("");

    watch(
      () => props.attempt,
      (attempt) => {
        if (!attempt) return;
        form.minutes = 10;
        form.reason = "";
        problem.value = "";
      }
    );

    async function give() {
      const minutes = Number(form.minutes);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 600) {
        problem.value = "Give a whole number of minutes, from 1 to 600.";
        return;
      }
      if (!form.reason.trim()) {
        problem.value = "Say why: the reason is kept with the change.";
        return;
      }
      busy.value = true;
      problem.value = "";
      try {
        const attempt = await api.post(`/api/attempts/${props.attempt.attempt_id}/extend`, { minutes, reason: form.reason.trim() });
        notices.success(`${props.attempt.student_name} has ${minutes} more ${minutes === 1 ? "minute" : "minutes"}: the test now ends at ${formatTime(attempt.deadline)}.`);
        emit("extended", attempt);
        emit("close");
      } catch (error) {
        problem.value = error.message;
        notices.error(error, { title: "No extra time was given" });
      } finally {
        busy.value = false;
      }
    }
    return { form, busy, problem, give, formatTime };
  },
  template: `
    <modal-dialog class="teacher-dialog" :open="attempt !== null" :title="attempt ? 'Extra time for ' + attempt.student_name : 'Extra time'" @close="$emit('close')">
      <form v-if="attempt" id="extra-time-form" class="form" novalidate @submit.prevent="give">
        <p class="muted">Their test now ends at <strong>{{ formatTime(attempt.deadline) }}</strong>. The student's timer
          changes at once; the change and its reason are kept in the audit log.</p>
        <div class="field">
          <label for="extra-minutes">Extra minutes</label>
          <input id="extra-minutes" type="number" min="1" max="600" step="1" v-model.number="form.minutes">
        </div>
        <div class="field">
          <label for="extra-reason">Reason</label>
          <input id="extra-reason" type="text" maxlength="1000" v-model="form.reason"
                 placeholder="e.g. agreed accommodation, network outage" aria-describedby="extra-reason-hint">
          <p id="extra-reason-hint" class="field__hint">Required. Visible to administrators and auditors.</p>
        </div>
        <p v-if="problem" class="notice notice--error" role="alert">{{ problem }}</p>
      </form>
      <template #actions>
        <button type="button" class="button button--secondary" :disabled="busy" @click="$emit('close')">Cancel</button>
        <button type="submit" form="extra-time-form" class="button" :disabled="busy">Give extra time</button>
      </template>
    </modal-dialog>`,
});
