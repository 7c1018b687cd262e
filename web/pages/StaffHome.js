// Admins and auditors land here; their own tools (review, users, system health) build on it.
import { defineComponent, onMounted, ref } from "vue";
import { api } from "../api/client.js";
import LoadingSpinner from "../components/LoadingSpinner.js";
import { useAuthStore } from "../stores/auth.js";
import { useNoticesStore } from "../stores/notices.js";

export default defineComponent({
  name: "StaffHome",
  components: { LoadingSpinner },
  setup() {
    const auth = useAuthStore();
    const notices = useNoticesStore();
    const flagged = ref(null);
    onMounted(async () => {
      try {
        flagged.value = await api.get("/api/reviews/flagged");
      } catch (error) {
        flagged.value = [];
        notices.error(error);
      }
    });
    return { auth, flagged };
  },
  template: `
    <header class="page-header">
      <div>
        <h1>Overview</h1>
        <p>Signed in as {{ auth.user.name }} ({{ auth.role }}).</p>
      </div>
    </header>
    <section class="card">
      <h2>Flagged attempts</h2>
      <loading-spinner v-if="flagged === null" label="Loading flagged attempts…"></loading-spinner>
      <p v-else-if="!flagged.length" class="empty-state">No attempt has been flagged.</p>
      <div v-else class="table-wrap">
        <table>
          <caption class="visually-hidden">Flagged attempts, most suspicious first</caption>
          <thead><tr><th scope="col">Student</th><th scope="col">Test</th><th scope="col" class="number">Violations</th><th scope="col" class="number">Suspicion</th></tr></thead>
          <tbody>
            <tr v-for="row in flagged" :key="row.attempt_id">
              <td>{{ row.student_name || row.student_id }}</td>
              <td>{{ row.test_title || row.test_id }}</td>
              <td class="number">{{ row.violation_count }}</td>
              <td class="number">{{ row.suspicion_score }}</td>
            </tr>
          </tbody>
        </table>
      </div>
    </section>`,
});
