// The teacher's live monitor of a test: a tile per student taking it now, each with the relayed
// camera and what proctoring sees; a tile opens the student large to warn them or end the attempt.
import { computed, defineComponent, onBeforeUnmount, onMounted, ref } from "vue";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useMonitorStore } from "../stores/monitor.js";
import { useNoticesStore } from "../stores/notices.js";
import MonitorTile from "./MonitorTile.js";
import StudentLiveDialog from "./StudentLiveDialog.js";

const STATUS = {
  off: { label: "Not connected", badge: "" },
  connecting: { label: "Connecting…", badge: "badge--info" },
  live: { label: "Live", badge: "badge--success" },
  reconnecting: { label: "Reconnecting…", badge: "badge--warning" },
};

export default defineComponent({
  name: "LiveMonitor",
  components: { LoadingSpinner, MonitorTile, StudentLiveDialog },
  props: {
    testId: { type: String, required: true },
  },
  setup(props) {
    const monitor = useMonitorStore();
    const notices = useNoticesStore();
    const openId = ref(null);

    onMounted(() => {
      monitor.start(props.testId).catch((error) => notices.error(error, { title: "The live view could not be opened" }));
    });
    onBeforeUnmount(() => monitor.stop());

    const opened = computed(() => (openId.value === null ? null : monitor.byId(openId.value)));
    const connection = computed(() => STATUS[monitor.status] || STATUS.off);
    const flagged = computed(() => monitor.students.filter((student) => student.openViolations.length).length);

    return { monitor, openId, opened, connection, flagged };
  },
  template: `
    <header class="page-header">
      <div>
        <p class="teacher-crumbs">
          <router-link :to="{ name: 'teacher-home' }">My tests</router-link><span aria-hidden="true">/</span>
          <router-link :to="{ name: 'test-results', params: { testId } }">Results</router-link><span aria-hidden="true">/</span>
        </p>
        <h1>Live<template v-if="monitor.test">: {{ monitor.test.title }}</template></h1>
        <p v-if="monitor.loaded && !monitor.problem" class="monitor-summary">
          <span :class="['badge', connection.badge]" role="status">{{ connection.label }}</span>
          <span>{{ monitor.count }} {{ monitor.count === 1 ? "student" : "students" }} taking the test</span>
          <span v-if="flagged" class="monitor-summary__flagged">{{ flagged }} with an open violation</span>
        </p>
      </div>
      <div class="row">
        <router-link class="button button--secondary" :to="{ name: 'test-results', params: { testId } }">Results</router-link>
      </div>
    </header>
    <p class="visually-hidden" aria-live="polite">{{ monitor.announcement }}</p>

    <loading-spinner v-if="!monitor.loaded" block label="Opening the live view…"></loading-spinner>
    <p v-else-if="monitor.problem" class="notice notice--error" role="alert">{{ monitor.problem }}</p>
    <div v-else-if="!monitor.students.length" class="card empty-state">
      <p><strong>No one is taking this test right now.</strong></p>
      <p>Students appear here as they start; this page checks for them every few seconds.</p>
    </div>
    <section v-else class="monitor-grid" aria-label="Students taking the test">
      <monitor-tile v-for="student in monitor.students" :key="student.attemptId" :student="student"
                    :stream="monitor.streams[student.attemptId] || null"
                    @open="openId = student.attemptId"
                    @visibility="(visible) => monitor.setVisible(student.attemptId, visible)"></monitor-tile>
    </section>

    <student-live-dialog :student="opened" :stream="opened ? monitor.streams[opened.attemptId] || null : null"
                         @close="openId = null"></student-live-dialog>`,
});
