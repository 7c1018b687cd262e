// A test's results: every attempt in a sortable table, the average and pass rate, the spread of
// scores, a CSV of it all, each attempt's detail, and extra time for attempts in progress.
import { computed, defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import BarChart from "../components/BarChart.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useNoticesStore } from "../stores/notices.js";
import ExtraTimeDialog from "./ExtraTimeDialog.js";
import { attemptStatus, average, formatDateTime, formatNumber, formatPercent, formatTime } from "./words.js";

const COLUMNS = [
  { key: "student", label: "Student", value: (row) => row.student_name.toLowerCase() },
  { key: "score", label: "Score", number: true, value: (row) => row.score },
  { key: "percent", label: "Percent", number: true, value: (row) => row.percent },
  { key: "status", label: "Status", value: (row) => attemptStatus(row.status).label },
  { key: "violations", label: "Violations", number: true, value: (row) => row.violation_count },
  { key: "suspicion", label: "Suspicion", number: true, value: (row) => row.suspicion_score },
];

function compare(a, b) {
  // Attempts with no value yet (in progress: no score) go last whichever way the column sorts.
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export default defineComponent({
  name: "TestResults",
  components: { BarChart, ExtraTimeDialog, LoadingSpinner },
  props: {
    testId: { type: String, required: true },
  },
  setup(props) {
    const notices = useNoticesStore();
    const test = ref(null);
    const rows = ref(null);
    const problem = ref("");
    const sortKey = ref("student");
    const ascending = ref(true);
    const extending = ref(null);
    const downloading = ref(false);

    async function load() {
      try {
        const [loadedTest, loadedRows] = await Promise.all([api.get(`/api/tests/${props.testId}`), api.get(`/api/results/${props.testId}`)]);
        test.value = loadedTest;
        rows.value = loadedRows;
      } catch (error) {
        problem.value = error.message;
        rows.value = [];
        notices.error(error, { title: "The results could not be loaded" });
      }
    }
    onMounted(load);

    const sorted = computed(() => {
      const column = COLUMNS.find((entry) => entry.key === sortKey.value);
      const list = [...(rows.value || [])];
      list.sort((a, b) => {
        const va = column.value(a);
        const vb = column.value(b);
        if (va === null || va === undefined || vb === null || vb === undefined) return compare(va, vb);
        return (ascending.value ? 1 : -1) * compare(va, vb) || a.attempt_id - b.attempt_id;
      });
      return list;
    });

    function sortBy(key) {
      if (sortKey.value === key) ascending.value = !ascending.value;
      else {
        sortKey.value = key;
        ascending.value = true;
      }
    }
    function ariaSort(key) {
      if (sortKey.value !== key) return "none";
      return ascending.value ? "ascending" : "descending";
    }

    const graded = computed(() => (rows.value || []).filter((row) => row.percent !== null && row.percent !== undefined));
    const summary = computed(() => {
      const list = rows.value || [];
      const passed = graded.value.filter((row) => row.passed).length;
      return {
        attempts: list.length,
        inProgress: list.filter((row) => row.status === "in_progress").length,
        average: average(graded.value.map((row) => row.percent)),
        passRate: graded.value.length ? (100 * passed) / graded.value.length : null,
        passed,
        flagged: list.filter((row) => row.violation_count > 0).length,
      };
    });
    const bands = computed(() =>
      Array.from({ length: 10 }, (_, band) => ({
        label: band === 9 ? "90–100" : `${band * 10}–${band * 10 + 9}`,
        value: graded.value.filter((row) => Math.min(9, Math.floor(row.percent / 10)) === band).length,
      }))
    );

    async function downloadCsv() {
      downloading.value = true;
      try {
        await api.download(`/api/results/export/${props.testId}`, `test-${props.testId}-results.csv`);
      } catch (error) {
        notices.error(error, { title: "The CSV could not be downloaded" });
      } finally {
        downloading.value = false;
      }
    }

    function extended(attempt) {
      const row = rows.value.find((entry) => entry.attempt_id === attempt.id);
      if (row) row.deadline = attempt.deadline;
    }

    return {
      test, rows, problem, sorted, columns: COLUMNS, sortKey, ascending, summary, bands, extending, downloading,
      sortBy, ariaSort, downloadCsv, extended, attemptStatus, formatDateTime, formatNumber, formatPercent, formatTime,
    };
  },
  template: `
    <header class="page-header">
      <div>
        <p class="teacher-crumbs"><router-link :to="{ name: 'teacher-home' }">My tests</router-link><span aria-hidden="true">/</span></p>
        <h1>Results<template v-if="test">: {{ test.title }}</template></h1>
        <p v-if="test">Pass mark {{ formatNumber(test.passing_score) }}% · {{ test.question_count }} questions · {{ formatNumber(test.time_limit) }} minutes</p>
      </div>
      <div class="row" v-if="test">
        <router-link v-if="test.is_published" class="button button--secondary" :to="{ name: 'live-monitor', params: { testId } }">Watch live</router-link>
        <router-link class="button button--secondary" :to="{ name: 'test-edit', params: { testId } }">Edit test</router-link>
        <button type="button" class="button" :disabled="downloading || !rows.length" @click="downloadCsv">Download CSV</button>
      </div>
    </header>

    <loading-spinner v-if="rows === null" block label="Loading the results…"></loading-spinner>
    <p v-else-if="problem" class="notice notice--error" role="alert">{{ problem }}</p>

    <template v-else>
      <section class="teacher-stats" aria-label="Summary">
        <div class="card teacher-stat"><span class="teacher-stat__label">Attempts</span><span class="teacher-stat__value">{{ summary.attempts }}</span>
          <span class="teacher-stat__note">{{ summary.inProgress }} in progress</span></div>
        <div class="card teacher-stat"><span class="teacher-stat__label">Average score</span><span class="teacher-stat__value">{{ formatPercent(summary.average) }}</span>
          <span class="teacher-stat__note">of submitted attempts</span></div>
        <div class="card teacher-stat"><span class="teacher-stat__label">Pass rate</span><span class="teacher-stat__value">{{ formatPercent(summary.passRate) }}</span>
          <span class="teacher-stat__note">{{ summary.passed }} passed</span></div>
        <div class="card teacher-stat"><span class="teacher-stat__label">With violations</span><span class="teacher-stat__value">{{ summary.flagged }}</span>
          <span class="teacher-stat__note">attempts to review</span></div>
      </section>

      <div v-if="!rows.length" class="card empty-state">
        <p><strong>No one has taken this test yet.</strong></p>
        <p>Attempts appear here as students start{{ test && !test.is_published ? ", once the test is published" : "" }}.</p>
      </div>

      <template v-else>
        <section class="card teacher-section teacher-chart" aria-labelledby="chart-heading">
          <h2 id="chart-heading">Score distribution</h2>
          <p class="muted">Submitted attempts by percent, in ten-point bands.</p>
          <bar-chart :bars="bands" title="Number of attempts per score band (percent)" value-label="Attempts"></bar-chart>
        </section>

        <section class="teacher-section" aria-labelledby="attempts-heading">
          <div class="teacher-section__header">
            <h2 id="attempts-heading">Attempts</h2>
            <p class="muted teacher-results__tip">Open a student's name for their answers and violations.</p>
          </div>
          <div class="table-wrap">
            <table class="teacher-results">
              <caption class="visually-hidden">Attempts at this test; the column buttons sort the table; a student's name opens their attempt</caption>
              <thead>
                <tr>
                  <th v-for="column in columns" :key="column.key" scope="col" :class="{ number: column.number }" :aria-sort="ariaSort(column.key)">
                    <button type="button" class="sort-button teacher-sort" @click="sortBy(column.key)">
                      {{ column.label }}
                      <span class="teacher-sort__arrow" aria-hidden="true">{{ sortKey === column.key ? (ascending ? "▲" : "▼") : "↕" }}</span>
                    </button>
                  </th>
                </tr>
              </thead>
              <tbody>
                <tr v-for="row in sorted" :key="row.attempt_id" :data-attempt-id="row.attempt_id">
                  <td>
                    <router-link class="teacher-results__name" :to="{ name: 'attempt-review', params: { attemptId: String(row.attempt_id) } }">{{ row.student_name }}</router-link>
                    <span class="teacher-results__email">{{ row.student_email }}</span>
                  </td>
                  <td class="number">{{ row.score === null ? "—" : formatNumber(row.score, 2) + " / " + formatNumber(row.max_score, 2) }}</td>
                  <td class="number">{{ formatPercent(row.percent) }}</td>
                  <td>
                    <span :class="['badge', attemptStatus(row.status).badge]">{{ attemptStatus(row.status).label }}</span>
                    <span v-if="row.status === 'in_progress' && row.deadline" class="teacher-results__deadline">ends {{ formatTime(row.deadline) }}</span>
                    <button v-if="row.status === 'in_progress'" type="button" class="button button--secondary button--small teacher-results__extend"
                            :aria-label="'Extra time for ' + row.student_name" @click="extending = row">+ Extra time</button>
                    <span v-else-if="row.passed !== null" :class="['teacher-results__pass', row.passed ? 'teacher-results__pass--yes' : '']">{{ row.passed ? "Passed" : "Not passed" }}</span>
                  </td>
                  <td class="number">{{ row.violation_count }}</td>
                  <td class="number">{{ formatNumber(row.suspicion_score, 1) }}</td>
                </tr>
              </tbody>
            </table>
          </div>
        </section>
      </template>
    </template>
    <extra-time-dialog :attempt="extending" @close="extending = null" @extended="extended"></extra-time-dialog>`,
});
