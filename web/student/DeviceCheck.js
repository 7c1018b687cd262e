// The device check: the live camera picture, a microphone level meter, and what to do when
// the browser refused them. Emits `start` (the click is the gesture that allows full screen).
import { computed, defineComponent, onBeforeUnmount, onMounted, ref, watch } from "vue";
import { useProctoringStore } from "../stores/proctoring.js";

export default defineComponent({
  name: "DeviceCheck",
  props: {
    test: { type: Object, required: true },
    resuming: { type: Boolean, default: false },
    busy: { type: Boolean, default: false },
  },
  emits: ["start"],
  setup(props) {
    const proctoring = useProctoringStore();
    const video = ref(null);
    const level = ref(0);
    const checking = ref(true);
    const cameraRequired = computed(() => Boolean(props.test.proctoring?.camera_required));
    const microphoneRequired = computed(() => Boolean(props.test.proctoring?.microphone_required));
    const hasVideo = ref(false);
    const hasAudio = ref(false);
    let audioContext = null;
    let frame = 0;

    function stopMeter() {
      cancelAnimationFrame(frame);
      audioContext?.close().catch(() => {});
      audioContext = null;
      level.value = 0;
    }

    function startMeter(stream) {
      stopMeter();
      if (!stream.getAudioTracks().length || !window.AudioContext) return;
      audioContext = new AudioContext();
      const analyser = audioContext.createAnalyser();
      analyser.fftSize = 512;
      audioContext.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const draw = () => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        const rms = Math.sqrt(sum / samples.length);
        level.value = Math.min(100, Math.round(Math.sqrt(rms) * 160)); // perceptual-ish scale
        frame = requestAnimationFrame(draw);
      };
      draw();
    }

    async function check() {
      checking.value = true;
      const stream = await proctoring.requestDevices({ video: true, audio: true });
      hasVideo.value = proctoring.hasVideo();
      hasAudio.value = proctoring.hasAudio();
      checking.value = false;
      if (stream) {
        if (video.value) video.value.srcObject = hasVideo.value ? stream : null;
        if (hasAudio.value) startMeter(stream);
      }
    }

    watch(video, (element) => {
      if (element && proctoring.media && hasVideo.value) element.srcObject = proctoring.media;
    });

    onMounted(check);
    onBeforeUnmount(stopMeter);

    const blocked = computed(
      () => (cameraRequired.value && !hasVideo.value) || (microphoneRequired.value && !hasAudio.value)
    );
    const meterStyle = computed(() => ({ width: `${level.value}%` }));
    const problem = computed(() => proctoring.deviceError);
    const missingWords = computed(() => {
      const missing = [];
      if (cameraRequired.value && !hasVideo.value) missing.push("camera");
      if (microphoneRequired.value && !hasAudio.value) missing.push("microphone");
      return missing.join(" and ");
    });
    return {
      proctoring, video, level, checking, cameraRequired, microphoneRequired, hasVideo, hasAudio,
      blocked, meterStyle, problem, missingWords, check,
    };
  },
  template: `
    <section class="card device-check" aria-labelledby="device-title">
      <p class="step-label">Step 2 of 2 · Device check</p>
      <h2 id="device-title">Check your camera and microphone</h2>
      <div class="device-check__grid">
        <div class="device-check__preview">
          <video ref="video" class="camera-preview" autoplay muted playsinline aria-label="Your camera picture" v-show="hasVideo"></video>
          <div v-if="!hasVideo" class="camera-preview camera-preview--empty">
            <span v-if="checking">Asking for your camera…</span>
            <span v-else>No camera picture</span>
          </div>
        </div>
        <div class="device-check__status stack">
          <ul class="device-list">
            <li :class="hasVideo ? 'device-list__ok' : 'device-list__bad'">
              <span class="device-list__mark" aria-hidden="true">{{ hasVideo ? '✓' : '✕' }}</span>
              Camera: {{ checking ? 'checking…' : hasVideo ? 'working' : (cameraRequired ? 'not available (required)' : 'not available (optional)') }}
            </li>
            <li :class="hasAudio ? 'device-list__ok' : 'device-list__bad'">
              <span class="device-list__mark" aria-hidden="true">{{ hasAudio ? '✓' : '✕' }}</span>
              Microphone: {{ checking ? 'checking…' : hasAudio ? 'working' : (microphoneRequired ? 'not available (required)' : 'not available (optional)') }}
            </li>
          </ul>
          <div v-if="hasAudio" class="mic-meter">
            <span id="mic-meter-label">Microphone level: speak to see it move</span>
            <div class="mic-meter__track" role="meter" aria-labelledby="mic-meter-label" aria-valuemin="0" aria-valuemax="100" :aria-valuenow="level">
              <div class="mic-meter__fill" :style="meterStyle"></div>
            </div>
          </div>
          <div v-if="!checking && problem === 'denied'" :class="['notice', blocked ? 'notice--error' : 'notice--warning']"
               :role="blocked ? 'alert' : null" data-testid="permission-help">
            <p><strong>Your browser blocked the {{ missingWords || 'camera and microphone' }}.</strong>
              <span v-if="!blocked"> This test does not require them: you can start without them, or allow them to be proctored by camera.</span></p>
            <ol class="help-steps">
              <li>Click the camera icon (or the lock) at the right or left end of the address bar.</li>
              <li>Choose <strong>Allow</strong> for the camera and the microphone.</li>
              <li>Then press <strong>Try again</strong> below.</li>
            </ol>
          </div>
          <div v-else-if="!checking && blocked" class="notice notice--error" role="alert" data-testid="permission-help">
            <p><strong>No {{ missingWords }} found.</strong> This test needs it.</p>
            <p>Plug one in or close other apps that use it (video calls), then press <strong>Try again</strong>.</p>
          </div>
          <p v-if="!checking && !hasVideo && !cameraRequired && problem !== 'denied'" class="notice notice--info">
            This test does not require a camera: you can start without one.
          </p>
          <div class="row">
            <button v-if="!checking && (blocked || problem)" type="button" class="button button--secondary" @click="check">Try again</button>
          </div>
        </div>
      </div>
      <div class="device-check__start">
        <p class="muted">Starting opens full screen. Stay in this tab until you submit.</p>
        <button type="button" class="button button--large" :disabled="checking || blocked || busy" @click="$emit('start')">
          {{ resuming ? 'Resume test' : 'Start test' }}
        </button>
      </div>
    </section>`,
});
