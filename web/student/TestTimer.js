// The time left, from the server's deadline and the offset of this browser's clock to the
// server's; announces the last minutes and emits `expired` once when it reaches zero.
import { computed, defineComponent, onBeforeUnmount, ref, watch } from "vue";

function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

export default defineComponent({
  name: "TestTimer",
  props: {
    deadline: { type: Number, required: true }, // ms since the epoch, server clock
    offset: { type: Number, default: 0 }, // server clock minus this browser's, ms
  },
  emits: ["expired"],
  setup(props, { emit }) {
    const now = ref(Date.now());
    const tick = setInterval(() => {
      now.value = Date.now();
    }, 250);
    onBeforeUnmount(() => clearInterval(tick));
    const left = computed(() => props.deadline - (now.value + props.offset));
    const text = computed(() => clock(left.value));
    const iso = computed(() => new Date(props.deadline).toISOString());
    const level = computed(() => (left.value <= 60_000 ? "critical" : left.value <= 300_000 ? "low" : "ok"));
    const announcement = ref("");
    let expired = false;
    watch(left, (ms) => {
      if (ms > 0) expired = false;
      if (ms <= 0 && !expired) {
        expired = true;
        emit("expired");
      }
    });
    watch(level, (next, previous) => {
      if (next === "low" && previous === "ok") announcement.value = "Five minutes left.";
      if (next === "critical" && previous !== "critical") announcement.value = "One minute left.";
    });
    watch(
      () => props.deadline,
      (next, previous) => {
        if (previous && next > previous) announcement.value = `More time: ${text.value} left.`;
      }
    );
    return { text, iso, level, announcement };
  },
  template: `
    <div :class="['test-timer', 'test-timer--' + level]" data-testid="timer">
      <span class="test-timer__label">Time left</span>
      <time class="test-timer__value" :datetime="iso" :title="'Ends at ' + new Date(iso).toLocaleTimeString()">{{ text }}</time>
      <span class="visually-hidden" role="status" aria-live="polite">{{ announcement }}</span>
    </div>`,
});
