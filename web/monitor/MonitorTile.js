// One student in the live grid: the relayed camera, connection and camera state, what the camera
// sees, and the violations as they arrive (the tile lights up on a new one). Tells its owner when
// it scrolls in or out of view, so the video of tiles nobody sees is not sent.
import { computed, defineComponent, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { severityBadge, violationType } from "../teacher/words.js";
import { cameraText, connectionText, observationText, observationWorrying } from "./words.js";

export default defineComponent({
  name: "MonitorTile",
  props: {
    student: { type: Object, required: true },
    stream: { type: Object, default: null },
  },
  emits: ["open", "visibility"],
  setup(props, { emit }) {
    const root = ref(null);
    const video = ref(null);
    let observer = null;

    function attach() {
      const element = video.value;
      if (!element) return;
      if (element.srcObject !== props.stream) element.srcObject = props.stream;
      if (props.stream) element.play().catch(() => {});
    }
    watch(() => props.stream, attach);
    onMounted(() => {
      attach();
      if (typeof IntersectionObserver === "function") {
        observer = new IntersectionObserver((entries) => {
          for (const entry of entries) emit("visibility", entry.isIntersecting);
        });
        observer.observe(root.value);
      }
    });
    onBeforeUnmount(() => {
      observer?.disconnect();
      if (video.value) video.value.srcObject = null;
    });

    const recent = computed(() => props.student.violations.slice(-3).reverse());
    const observation = computed(() => observationText(props.student));
    const worrying = computed(() => observationWorrying(props.student));
    const headingId = computed(() => `tile-${props.student.attemptId}`);
    return { root, video, recent, observation, worrying, headingId, connectionText, cameraText, severityBadge, violationType };
  },
  template: `
    <article ref="root" :class="['card', 'monitor-tile', { 'monitor-tile--alert': student.highlighted }]"
             :aria-labelledby="headingId" :data-attempt-id="student.attemptId">
      <div class="monitor-tile__screen">
        <video ref="video" class="monitor-tile__video" muted autoplay playsinline
               :aria-label="'Camera of ' + student.name"></video>
        <span v-if="!stream" class="monitor-tile__placeholder">Waiting for video…</span>
        <span v-else-if="student.paused" class="monitor-tile__placeholder">Paused while out of view</span>
        <span v-if="student.violationCount" class="badge badge--danger monitor-tile__count"
              :aria-label="student.violationCount + ' violations'">{{ student.violationCount }}</span>
      </div>
      <div class="monitor-tile__body">
        <h2 :id="headingId" class="monitor-tile__name">{{ student.name }}</h2>
        <p class="monitor-tile__state">
          <span :class="['monitor-dot', { 'monitor-dot--on': student.connected, 'monitor-dot--off': student.known && !student.connected }]" aria-hidden="true"></span>
          <span>{{ connectionText(student) }}</span>
          <template v-if="cameraText(student)"><span aria-hidden="true">·</span><span>{{ cameraText(student) }}</span></template>
        </p>
        <p v-if="observation" :class="['monitor-tile__seen', { 'monitor-tile__seen--warn': worrying }]">{{ observation }}</p>
        <p v-if="student.openViolations.length" class="monitor-tile__now">Now: {{ student.openViolations.map(violationType).join(", ") }}</p>
        <ul v-if="recent.length" class="monitor-tile__violations" aria-label="Latest violations">
          <li v-for="item in recent" :key="item.id"><span :class="['badge', severityBadge(item.severity)]">{{ violationType(item.type) }}</span></li>
        </ul>
        <button type="button" class="button button--secondary button--small monitor-tile__open"
                :aria-label="'Open the live view of ' + student.name" @click="$emit('open')">Open</button>
      </div>
    </article>`,
});
