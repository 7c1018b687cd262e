// The test being written in the editor: its settings and questions as edited, what the server
// last saved, and saving the difference. The editor's parts (settings, proctoring, each
// question, the bank, the import) all work on this one draft.
import { defineStore } from "pinia";
import { computed, reactive, ref } from "vue";
import { api } from "../api/client.js";
import { PROCTORING_DEFAULTS, RULE_DEFAULTS, TEST_DEFAULTS } from "./proctoringFields.js";
import { localKey } from "./words.js";

const SETTING_NAMES = Object.keys(TEST_DEFAULTS);

function blankQuestion(type) {
  const question = {
    key: localKey("question"),
    id: null,
    question_type: type,
    question_text: "",
    options: [],
    correct: "",
    correctOption: "", // the option chosen while it was a multiple-choice question, for a switch back
    points: 1,
    explanation: "",
    ai_generated: false,
    error: "",
  };
  if (type === "mcq") {
    // No option is correct until the teacher chooses one: the check asks for it.
    question.options = [0, 1, 2, 3].map(() => ({ key: localKey("option"), text: "" }));
  } else if (type === "true_false") {
    question.correct = "true";
  }
  return question;
}

/** A question from the server (a test's, the bank's, an import's) as the editor holds it. */
export function editableQuestion(source, { keepId = true } = {}) {
  const question = blankQuestion(source.question_type);
  question.id = keepId ? source.id ?? null : null;
  question.question_text = source.question_text;
  question.points = source.points;
  question.explanation = source.explanation || "";
  question.ai_generated = Boolean(source.ai_generated) && keepId;
  if (source.question_type === "mcq") {
    question.options = source.options.map((text) => ({ key: localKey("option"), text }));
    question.correct = question.options.find((option) => option.text === source.correct_answer)?.key || "";
  } else if (source.question_type === "true_false") {
    question.correct = String(source.correct_answer).toLowerCase() === "false" ? "false" : "true";
  } else {
    question.correct = source.correct_answer;
  }
  return question;
}

/** The question as the API takes it (QuestionIn). */
export function questionPayload(question) {
  const payload = {
    question_text: question.question_text.trim(),
    question_type: question.question_type,
    options: [],
    correct_answer: "",
    points: Number(question.points),
    explanation: question.explanation.trim() || null,
  };
  if (question.question_type === "mcq") {
    payload.options = question.options.map((option) => option.text.trim());
    payload.correct_answer = question.options.find((option) => option.key === question.correct)?.text.trim() || "";
  } else if (question.question_type === "true_false") {
    payload.options = ["true", "false"];
    payload.correct_answer = question.correct;
  } else {
    payload.correct_answer = String(question.correct).trim();
  }
  return payload;
}

/** What is wrong with a question before it is sent, in words; "" when nothing is. */
export function questionProblem(question) {
  const payload = questionPayload(question);
  if (!payload.question_text) return "Write the question.";
  if (question.points === "" || !(payload.points >= 0 && payload.points <= 1000)) return "Give it points, from 0 to 1000.";
  if (question.question_type === "mcq") {
    if (payload.options.length < 2) return "A multiple-choice question needs at least two options.";
    if (payload.options.some((text) => !text)) return "Fill in every option, or remove the empty ones.";
    const distinct = new Set(payload.options.map((text) => text.toLowerCase()));
    if (distinct.size !== payload.options.length) return "Two options say the same thing.";
    if (!payload.correct_answer) return "Choose which option is correct.";
  }
  if (question.question_type === "short_answer" && !payload.correct_answer) return "Write the accepted answer.";
  return "";
}

/** Where a problem-details body says a field went wrong: `$.title` or "field `title`". */
export function fieldOfProblem(error) {
  const texts = [error?.detail || "", ...(error?.errors || []).map((entry) => `${entry.key || ""} ${entry.message || ""}`)];
  for (const text of texts) {
    const match = /\$\.([a-z_.]+)/.exec(text) || /field `([a-z_.]+)`/.exec(text);
    if (match) return match[1];
  }
  return "";
}

export const useTestDraftStore = defineStore("teacher-test-draft", () => {
  const testId = ref(null);
  const isPublished = ref(false);
  const settings = reactive({ ...TEST_DEFAULTS });
  const proctoring = reactive({ ...PROCTORING_DEFAULTS, rules: { ...RULE_DEFAULTS } });
  const questions = ref([]);
  const saved = ref(""); // the draft's snapshot as the server last had it
  const savedQuestions = ref({}); // id → {payload, position} as last saved
  const loading = ref(false);
  const saving = ref(false);
  const problem = ref(""); // the server's last refusal, shown next to the form
  const fieldErrors = reactive({});

  function snapshot() {
    return JSON.stringify({
      settings: SETTING_NAMES.map((name) => settings[name]),
      proctoring: proctoringPayload(),
      questions: questions.value.map((question) => [question.id, questionPayload(question)]),
    });
  }

  const dirty = computed(() => snapshot() !== saved.value);

  function proctoringPayload() {
    const terminate = proctoring.auto_terminate_after_critical;
    return {
      camera_required: proctoring.camera_required,
      microphone_required: proctoring.microphone_required,
      analysis_fps: Number(proctoring.analysis_fps),
      rules: Object.fromEntries(Object.entries(proctoring.rules).map(([name, value]) => [name, typeof value === "boolean" ? value : Number(value)])),
      auto_terminate_after_critical: terminate === null || terminate === "" ? null : Number(terminate),
    };
  }

  function settingsPayload() {
    return {
      title: settings.title.trim(),
      subject: settings.subject.trim(),
      description: settings.description,
      time_limit: Number(settings.time_limit),
      passing_score: Number(settings.passing_score),
      shuffle_questions: settings.shuffle_questions,
      max_attempts: Number(settings.max_attempts),
      review_mode: settings.review_mode,
      proctoring: proctoringPayload(),
    };
  }

  function clearErrors() {
    problem.value = "";
    for (const name of Object.keys(fieldErrors)) delete fieldErrors[name];
    for (const question of questions.value) question.error = "";
  }

  function accept(test) {
    testId.value = test.id;
    isPublished.value = test.is_published;
    for (const name of SETTING_NAMES) settings[name] = test[name];
    Object.assign(proctoring, {
      camera_required: test.proctoring.camera_required,
      microphone_required: test.proctoring.microphone_required,
      analysis_fps: test.proctoring.analysis_fps,
      auto_terminate_after_critical: test.proctoring.auto_terminate_after_critical ?? null,
      rules: { ...RULE_DEFAULTS, ...test.proctoring.rules },
    });
    questions.value = (test.questions || []).map((question) => editableQuestion(question));
    remember(test.questions || []);
  }

  function remember(serverQuestions) {
    savedQuestions.value = Object.fromEntries(
      serverQuestions.map((question) => [question.id, { payload: JSON.stringify(questionPayload(editableQuestion(question))), position: question.position }])
    );
    saved.value = snapshot();
  }

  function startNew() {
    testId.value = null;
    isPublished.value = false;
    Object.assign(settings, TEST_DEFAULTS);
    Object.assign(proctoring, { ...PROCTORING_DEFAULTS, rules: { ...RULE_DEFAULTS } });
    questions.value = [];
    savedQuestions.value = {};
    clearErrors();
    saved.value = snapshot();
  }

  async function load(id) {
    loading.value = true;
    clearErrors();
    try {
      accept(await api.get(`/api/tests/${id}`));
    } finally {
      loading.value = false;
    }
  }

  function addQuestion(type) {
    problem.value = "";
    const question = blankQuestion(type);
    questions.value.push(question);
    return question;
  }

  /** A copy of a bank question, new to this test (saved with the test). */
  function addCopy(source) {
    problem.value = "";
    const question = editableQuestion(source, { keepId: false });
    questions.value.push(question);
    return question;
  }

  /** Questions the server has just added to this test (an import): already saved. */
  function addSaved(serverQuestions) {
    const wasClean = !dirty.value;
    const last = Math.max(-1, ...Object.values(savedQuestions.value).map((entry) => entry.position));
    serverQuestions.forEach((question, offset) => {
      const editable = editableQuestion(question);
      questions.value.push(editable);
      savedQuestions.value[question.id] = { payload: JSON.stringify(questionPayload(editable)), position: last + 1 + offset };
    });
    // Changes not saved before the import stay unsaved; the imported questions themselves are saved.
    if (wasClean) saved.value = snapshot();
  }

  function move(index, delta) {
    const target = index + delta;
    if (target < 0 || target >= questions.value.length) return;
    const list = [...questions.value];
    [list[index], list[target]] = [list[target], list[index]];
    questions.value = list;
  }

  function remove(key) {
    questions.value = questions.value.filter((question) => question.key !== key);
  }

  /** The first problem the page can see before sending anything; marks the fields. */
  function check() {
    clearErrors();
    if (!settings.title.trim()) fieldErrors.title = "Give the test a title.";
    const minutes = Number(settings.time_limit);
    if (!(minutes > 0 && minutes <= 1440)) fieldErrors.time_limit = "Between 1 and 1440 minutes.";
    const passing = Number(settings.passing_score);
    if (!(passing >= 0 && passing <= 100) || settings.passing_score === "") fieldErrors.passing_score = "A percent from 0 to 100.";
    const attempts = Number(settings.max_attempts);
    if (!(Number.isInteger(attempts) && attempts >= 1 && attempts <= 100)) fieldErrors.max_attempts = "A whole number from 1 to 100.";
    let first = Object.values(fieldErrors)[0] || "";
    for (const [index, question] of questions.value.entries()) {
      question.error = questionProblem(question);
      if (question.error && !first) first = `Question ${index + 1}: ${question.error}`;
    }
    return first;
  }

  function refuse(error, question = null) {
    problem.value = error.message;
    const field = fieldOfProblem(error);
    if (question) question.error = error.message;
    else if (field) {
      fieldErrors[field] = error.message;
      fieldErrors[field.split(".")[0]] = error.message;
    }
  }

  /** Saves what changed; returns the test id, or throws the server's refusal (already shown). */
  async function save() {
    saving.value = true;
    try {
      if (testId.value === null) {
        const created = await api.post("/api/tests", {
          ...settingsPayload(),
          questions: questions.value.map((question) => questionPayload(question)),
        });
        accept(created);
        return created.id;
      }
      await saveExisting();
      return testId.value;
    } catch (error) {
      if (!problem.value) refuse(error);
      throw error;
    } finally {
      saving.value = false;
    }
  }

  async function saveExisting() {
    const id = testId.value;
    let test = await api.put(`/api/tests/${id}`, settingsPayload());
    const kept = new Set(questions.value.map((question) => question.id).filter((qid) => qid !== null));
    for (const qid of Object.keys(savedQuestions.value).map(Number)) {
      if (!kept.has(qid)) {
        await api.del(`/api/questions/${qid}`);
        delete savedQuestions.value[qid];
      }
    }
    for (const [position, question] of questions.value.entries()) {
      const payload = questionPayload(question);
      try {
        if (question.id === null) {
          const created = await api.post("/api/questions", { ...payload, test_id: id });
          question.id = created.id;
          if (created.position !== position) await api.put(`/api/questions/${created.id}`, { position });
        } else {
          const before = savedQuestions.value[question.id];
          if (!before || before.payload !== JSON.stringify(payload) || before.position !== position) {
            await api.put(`/api/questions/${question.id}`, { ...payload, position });
          }
        }
        savedQuestions.value[question.id] = { payload: JSON.stringify(payload), position };
      } catch (error) {
        refuse(error, question);
        throw error;
      }
    }
    test = await api.get(`/api/tests/${id}`);
    accept(test);
  }

  async function setPublished(publish) {
    saving.value = true;
    problem.value = "";
    try {
      const test = await api.put(`/api/tests/${testId.value}`, { is_published: publish });
      isPublished.value = test.is_published;
      return test;
    } catch (error) {
      problem.value = error.message;
      throw error;
    } finally {
      saving.value = false;
    }
  }

  return {
    testId, isPublished, settings, proctoring, questions, loading, saving, problem, fieldErrors, dirty,
    startNew, load, addQuestion, addCopy, addSaved, move, remove, check, save, setPublished, clearErrors,
  };
});
